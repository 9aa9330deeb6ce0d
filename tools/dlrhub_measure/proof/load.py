"""Load (docs/proof.md): many senders for a bounded time, ordinary traffic.

Mostly Infin8linx callbacks for new messages, some Webcom arrays of five, reads of messages already
stored, and callbacks to made-up accounts. Measured: throughput, reply times (p50/p99), every
process's resident memory (RSS) at start and end. Pass: no 5xx, no reply missing, every report
acknowledged is stored (0 lost), and memory within the bounds below.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass

from dlrhub_measure.proof.cases import Case, pair
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.rawhttp import request_bytes
from dlrhub_measure.proof.senders import Sent, send_cases
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
        self.secrets = {p: target.accounts[f"{p}/demo"]["webhook_secret"] for p in ("infin8linx", "webcom")}

    def case(self, i: int) -> Case:
        rng = random.Random(f"{self.seed}:load:{i}")
        host, draw = self.target.host, rng.random()
        if draw < 0.7:
            phone = "62866" + f"{i:07d}"
            query = "&".join(
                (pair("msgid", f"L{self.seed}-{i}"), pair("das", phone), pair("state", rng.choice("0112")))
            )
            path = f"/webhooks/infin8linx/demo/{self.secrets['infin8linx']}?{query}"
            return Case(
                "infin8linx",
                "callback",
                request_bytes("GET", path, host),
                True,
                frozenset({f"L{self.seed}-{i}"}),
                (phone,),
            )
        if draw < 0.85:
            ids = [f"6{i:010d}{n}" for n in range(5)]
            items = [{"id_sms": int(mid), "time": "2026-11-25 13:15:03", "state": "deliver"} for mid in ids]
            data = request_bytes(
                "POST",
                f"/webhooks/webcom/demo/{self.secrets['webcom']}",
                host,
                headers=[("Content-Type", "application/json")],
                body=json.dumps(items).encode(),
            )
            return Case("webcom", "array", data, True, frozenset(ids))
        if draw < 0.95:
            earlier = rng.randrange(max(1, i))
            path = f"/messages/infin8linx/demo/L{self.seed}-{earlier}"
            return Case("api", "read", request_bytes("GET", path, host), True)
        account = f"made-up-{rng.randrange(10**9)}"
        path = f"/webhooks/infin8linx/{account}/{self.secrets['infin8linx']}?msgid=1&state=1"
        return Case("infin8linx", "unknown-account", request_bytes("GET", path, host), False)


def run(target: Target, sizes: Sizes = SHORT, seed: int = SEED) -> Figures:
    figures = Figures("load")
    mark = target.begin(figures)
    traffic = Traffic(target, seed)
    lock = threading.Lock()
    statuses: Counter[tuple[str, int]] = Counter()
    acknowledged: dict[str, set[str]] = {"infin8linx": set(), "webcom": set()}

    def on_sent(sent: Sent) -> None:
        case, reply = sent.case, sent.reply
        target.scanner.add_phones(case.phones)
        with lock:
            figures.requests += 1
            if reply is None:
                figures.fail(f"load #{sent.index} ({case.kind}): no reply ({sent.error})")
                return
            figures.times.append(reply.seconds)
            statuses[(case.kind, reply.status)] += 1
            if reply.status >= 500:
                figures.server_errors += 1
                figures.fail(f"load #{sent.index} ({case.kind}): {reply.status} {reply.text[:200]}")
            if reply.status == 200 and case.route == "webcom":
                acknowledged["webcom"] |= {str(item["id_sms"]) for item in json.loads(reply.body)}
            elif reply.status == 200 and case.kind == "callback":
                acknowledged["infin8linx"] |= case.ids
        for problem in target.scanner.in_reply(reply.text, phones=case.route != "api"):
            with lock:
                figures.fail(f"load #{sent.index} ({case.kind}): the reply shows {problem}")

    started = time.monotonic()
    send_cases(target.port, traffic.case, 10**9, on_sent, senders=sizes.senders, budget=sizes.seconds)
    figures.seconds = time.monotonic() - started
    figures.notes.append(f"{sizes.senders} senders for {figures.seconds:.1f} s: {dict(sorted(statuses.items()))}")
    keys = [(provider, "demo", mid) for provider, ids in acknowledged.items() for mid in sorted(ids)]
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
