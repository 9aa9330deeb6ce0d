"""Load (docs/proof.md): many senders for a bounded time, ordinary traffic.

Mostly Infin8linx callbacks for new messages, some Webcom arrays of five, reads of messages already
stored, and callbacks to made-up accounts. Measured: throughput, reply times (p50/p99), every
process's resident memory (RSS) at start and end. Pass: no 5xx, no reply missing, every report
acknowledged is stored (0 lost), and memory within the bounds below.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass

from dlrhub_measure.proof.cases import Case, infin8linx_callback, webcom_array
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.rawhttp import Reply, request_bytes
from dlrhub_measure.proof.senders import Sent, Tally, send_cases
from dlrhub_measure.proof.stored import get_messages
from dlrhub_measure.proof.target import Target

SEED = 777
#: Most the local stack's own process (the functions, the gateway, the stream reader) may grow in MB
#: over a run, and most each engine may: moto holds the secrets only; DynamoDB Local holds the table
#: in memory (a few KB per item written) in a JVM that takes heap as it goes, so its bound is larger.
GROWTH_MB = {"stack": 150.0, "moto": 50.0, "DynamoDB Local": 600.0}


@dataclass(frozen=True)
class Sizes:
    seconds: float
    senders: int


FULL = Sizes(seconds=60, senders=50)
SHORT = Sizes(seconds=10, senders=50)


class Traffic:
    """Case ``i``: its kind drawn from a seeded RNG; ids unique to (seed, i)."""

    def __init__(self, target: Target, seed: int) -> None:
        self.target = target
        self.seed = seed
        self.secrets = {p: target.secret(p) for p in ("infin8linx", "webcom")}

    def case(self, i: int) -> Case:
        rng = random.Random(f"{self.seed}:load:{i}")
        host, draw = self.target.host, rng.random()
        if draw < 0.7:
            message_id, phone = f"L{self.seed}-{i}", "62866" + f"{i:07d}"
            data = infin8linx_callback(host, self.secrets["infin8linx"], message_id, phone, rng.choice("0112"))
            return Case("infin8linx", "callback", data, True, frozenset({message_id}), (phone,))
        if draw < 0.85:
            ids = [f"6{i:010d}{n}" for n in range(5)]
            items = [{"id_sms": int(mid), "time": "2026-11-25 13:15:03", "state": "deliver"} for mid in ids]
            return Case("webcom", "array", webcom_array(host, self.secrets["webcom"], items), True, frozenset(ids))
        if draw < 0.95:
            earlier = rng.randrange(max(1, i))
            path = f"/messages/infin8linx/demo/L{self.seed}-{earlier}"
            return Case("api", "read", request_bytes("GET", path, host), True)
        account = f"made-up-{rng.randrange(10**9)}"
        path = f"/webhooks/infin8linx/{account}/{self.secrets['infin8linx']}?msgid=1&state=1"
        return Case("infin8linx", "unknown-account", request_bytes("GET", path, host), False)


class Acknowledged(Tally):
    """Every 5xx a failure; the reports each provider acknowledged (200)."""

    def __init__(self, target: Target, figures: Figures) -> None:
        super().__init__(figures, target.scanner)
        self.reports: dict[str, set[str]] = {"infin8linx": set(), "webcom": set()}

    def name(self, sent: Sent) -> str:
        return f"load #{sent.index} ({sent.case.kind})"

    def took(self, sent: Sent, reply: Reply) -> None:
        if reply.status >= 500:
            self.figures.fail(f"{self.name(sent)}: {reply.status} {reply.text[:200]}")
        if reply.status == 200 and sent.case.route == "webcom":
            self.reports["webcom"] |= {str(item["id_sms"]) for item in json.loads(reply.body)}
        elif reply.status == 200 and sent.case.kind == "callback":
            self.reports["infin8linx"] |= sent.case.ids


def run(target: Target, sizes: Sizes = SHORT, seed: int = SEED) -> Figures:
    figures = Figures("load")
    mark = target.begin(figures)
    traffic, acknowledged = Traffic(target, seed), Acknowledged(target, figures)
    started = time.monotonic()
    send_cases(target.port, traffic.case, 10**9, acknowledged, senders=sizes.senders, budget=sizes.seconds)
    figures.seconds = time.monotonic() - started
    statuses = dict(sorted(acknowledged.statuses.items()))
    figures.notes.append(f"{sizes.senders} senders for {figures.seconds:.1f} s: {statuses}")
    keys = [(provider, "demo", mid) for provider, ids in acknowledged.reports.items() for mid in sorted(ids)]
    stored = get_messages(target.dynamodb, target.table, keys)
    missing = [key for key in keys if key not in stored]
    figures.lost = len(missing)
    for key in missing[:10]:
        figures.fail(f"acknowledged but not stored: {key}")
    figures.notes.append(f"reports acknowledged and found stored: {len(keys) - len(missing)} of {len(keys)}")
    target.end(figures, mark)
    check_memory(figures)
    return figures


def check_memory(figures: Figures) -> None:
    for name, bound in GROWTH_MB.items():
        start, end = figures.memory_start.get(name), figures.memory_end.get(name)
        if start is None or end is None:
            figures.fail(f"no memory figure for {name}")
        elif end - start > bound:
            figures.fail(f"{name} grew {end - start:.0f} MB ({start:.0f} → {end:.0f}), over the {bound:.0f} MB bound")
    figures.notes.append("memory growth bounds (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in GROWTH_MB.items()))
