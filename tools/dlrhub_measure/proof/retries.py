"""Provider retries (docs/proof.md): every report of every message sent three times, all of
them shuffled, by many senders at once, as providers retry.

Messages are registered first (``POST /messages``), submitted on a day no other suite uses, so the
stream function counts them. Infin8linx messages get ``0`` then a final ``1`` or ``2``; Webcom
messages ``send``, ``partly_deliver``, a final word and sometimes ``read``, sent in arrays of up to
five messages. Pass: each message's stored status is what the rules (``dlrhub.domain.status.accepts``)
make of its acknowledged reports in the order acknowledged (for one final word, any order gives the
same); 0 lost (an acknowledged final report not stored); 0 regressions (a history going backwards,
or a status other than the rules'); no history entry twice; ``/stats`` equal to a recount of the
table once the stream has caught up.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dlrhub.domain.stats import bucket_of, parse_time
from dlrhub.domain.status import Status, accepts
from dlrhub.domain.times import iso
from dlrhub.providers.registry import infin8linx, webcom
from dlrhub.table.keys import MESSAGE_SK, from_item
from dlrhub_measure.aws import scan
from dlrhub_measure.proof.cases import JSON, Case, infin8linx_callback, webcom_array
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.rawhttp import Connection, Reply, request_bytes
from dlrhub_measure.proof.senders import Sent, Tally, send_cases
from dlrhub_measure.proof.stored import history, identity
from dlrhub_measure.proof.target import Target

SEED = 4242
DAY = datetime(2026, 11, 20, tzinfo=UTC)  # the day these messages are submitted: no other suite's
SUBMITTED = DAY + timedelta(hours=6)
WEBCOM_FIRST = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # Webcom's own times (read at +03:00): after SUBMITTED
WEBCOM_WORDS = {"send": 0, "partly_deliver": 1, "deliver": 2, "not_deliver": 2, "expired": 2, "read": 3}


@dataclass(frozen=True)
class Sizes:
    messages: int
    copies: int
    senders: int
    budget: float


FULL = Sizes(messages=2000, copies=3, senders=50, budget=600)
SHORT = Sizes(messages=200, copies=3, senders=50, budget=120)


@dataclass
class Message:
    provider: str
    message_id: str
    words: list[str]
    phone: str
    #: (reply time, word) of each report acknowledged.
    acknowledged: list[tuple[float, str]] = field(default_factory=list)

    def status_of(self, word: str) -> Status:
        return (infin8linx.STATES if self.provider == "infin8linx" else webcom.STATES)[word]

    def event_time(self, word: str, received: str) -> str:
        """The time a report counts from: Webcom's own time, else its receipt (ISO text, compared as text)."""
        if self.provider == "webcom":
            return iso(WEBCOM_FIRST + timedelta(minutes=WEBCOM_WORDS[word]) - timedelta(hours=3))
        return received

    def expected(self) -> Status:
        """The rules applied to the acknowledged reports in the order acknowledged, from the registration."""
        status, at, size, raw = Status.PENDING, iso(SUBMITTED), 0, None
        for n, (_, word) in enumerate(sorted(self.acknowledged)):
            new, new_at = self.status_of(word), self.event_time(word, f"2099-01-01T00:00:{n % 60:02d}.{n:03d}Z")
            if accepts(status, at, size, new, new_at, current_raw=raw, new_raw=word):
                status, at, size, raw = new, new_at, size + 1, word
        return status


def messages(sizes: Sizes, seed: int) -> list[Message]:
    rng = random.Random(f"{seed}:messages")
    found = []
    for n in range(sizes.messages):
        phone = "62877" + f"{n:07d}"
        if n % 6 == 5:  # one in six a Webcom message
            final = rng.choice(("deliver", "deliver", "not_deliver", "expired"))
            words = ["send", "partly_deliver", final] + (["read"] if final == "deliver" and rng.random() < 0.5 else [])
            found.append(Message("webcom", f"5{n:09d}", words, phone))
        else:
            found.append(Message("infin8linx", f"r-{seed}-{n:06d}", ["0", rng.choice("12")], phone))
    return found


def register(target: Target, all_messages: list[Message], figures: Figures) -> None:
    with closing(Connection("127.0.0.1", target.port, timeout=120)) as connection:
        for start in range(0, len(all_messages), 500):
            items = [
                {
                    "provider": m.provider,
                    "account": "demo",
                    "message_id": m.message_id,
                    "destination": m.phone,
                    "submitted_at": SUBMITTED.isoformat(),
                    "customer_ref": "proof-retries",
                }
                for m in all_messages[start : start + 500]
            ]
            body = json.dumps({"messages": items}).encode()
            reply = connection.send(request_bytes("POST", "/messages", target.host, headers=[JSON], body=body))
            counts = json.loads(reply.body) if reply.status == 200 else {}
            if reply.status != 200 or counts.get("registered") != len(items):
                figures.fail(f"registration answered {reply.status}: {reply.text[:300]}")


def calls(all_messages: list[Message], sizes: Sizes, target: Target, seed: int) -> list[tuple[Case, list[tuple]]]:
    """Every report ``copies`` times, shuffled; Webcom's in arrays of up to five messages (none twice in one).
    Each: the request, and the (message, word) of each report it carries."""
    rng = random.Random(f"{seed}:order")
    reports = [(m, w) for m in all_messages for w in m.words for _ in range(sizes.copies)]
    rng.shuffle(reports)
    found: list[tuple[Case, list[tuple]]] = []
    batch: list[tuple[Message, str]] = []
    size = rng.randint(1, 5)

    def flush() -> None:
        nonlocal batch, size
        if batch:
            items = [{"id_sms": int(m.message_id), "time": webcom_time(w), "state": w} for m, w in batch]
            data = webcom_array(target.host, target.secret("webcom"), items)
            found.append((Case("webcom", "retry", data, authenticated=True), list(batch)))
        batch, size = [], rng.randint(1, 5)

    for message, word in reports:
        if message.provider == "infin8linx":
            data = infin8linx_callback(
                target.host, target.secret("infin8linx"), message.message_id, message.phone, word
            )
            found.append((Case("infin8linx", "retry", data, authenticated=True), [(message, word)]))
            continue
        if any(m is message for m, _ in batch):
            flush()
        batch.append((message, word))
        if len(batch) >= size:
            flush()
    flush()
    return found


def webcom_time(word: str) -> str:
    return (WEBCOM_FIRST + timedelta(minutes=WEBCOM_WORDS[word])).strftime("%Y-%m-%d %H:%M:%S")


class Acknowledged(Tally):
    """Anything but 200 a failure; each report a 200 took, acknowledged in its message (in reply order)."""

    def __init__(self, target: Target, figures: Figures, plan: list[tuple[Case, list[tuple]]]) -> None:
        super().__init__(figures, target.scanner)
        self.plan = plan

    def name(self, sent: Sent) -> str:
        return f"{sent.case.route} call #{sent.index}"

    def took(self, sent: Sent, reply: Reply) -> None:
        now = time.monotonic()
        if reply.status != 200:
            self.figures.fail(f"{self.name(sent)}: {reply.status} {reply.text[:200]}")
            return
        taken = {str(item["id_sms"]) for item in json.loads(reply.body)} if sent.case.route == "webcom" else None
        for message, word in self.plan[sent.index][1]:
            if taken is None or message.message_id in taken:
                message.acknowledged.append((now, word))


def run(target: Target, sizes: Sizes = SHORT, seed: int = SEED) -> Figures:
    figures = Figures("provider retries")
    mark = target.begin(figures)
    all_messages = messages(sizes, seed)
    target.scanner.add_phones(m.phone for m in all_messages)
    register(target, all_messages, figures)
    plan = calls(all_messages, sizes, target, seed)
    acknowledged = Acknowledged(target, figures, plan)
    started = time.monotonic()
    sent = send_cases(
        target.port, lambda i: plan[i][0], len(plan), acknowledged, senders=sizes.senders, budget=sizes.budget
    )
    figures.seconds = time.monotonic() - started
    if sent < len(plan):
        figures.fail(f"only {sent} of {len(plan)} calls sent within {sizes.budget} s")
    statuses: Counter[int] = Counter()
    for (_, status), n in acknowledged.statuses.items():
        statuses[status] += n
    figures.notes.append(
        f"{len(all_messages)} messages, {sum(len(m.words) for m in all_messages)} reports"
        f" sent {sizes.copies} times each"
        f" in {len(plan)} calls ({sum(c.route == 'webcom' for c, _ in plan)} Webcom arrays): {dict(statuses)}"
    )
    check_table(target, all_messages, figures)
    check_stats(target, figures)
    target.end(figures, mark)
    return figures


def check_table(target: Target, all_messages: list[Message], figures: Figures) -> None:
    items = {
        identity(item["pk"]["S"]): item for item in scan(target.dynamodb, target.table) if item["sk"]["S"] == MESSAGE_SK
    }
    lost = regressions = duplicated = 0
    for message in all_messages:
        item = items.get((message.provider, "demo", message.message_id))
        expected = message.expected()
        stored = Status(item["status"]["S"]) if item else None
        entries = [(entry["status"], entry["raw_status"]) for entry in history(item)] if item else []
        finals_acknowledged = [w for _, w in message.acknowledged if message.status_of(w).is_final]
        if finals_acknowledged and (stored is None or not stored.is_final):
            lost += 1
            figures.fail(f"{message.provider} {message.message_id}: final report acknowledged, stored {stored}")
        elif stored != expected:
            regressions += 1
            figures.fail(f"{message.provider} {message.message_id}: stored {stored}, the rules give {expected}")
        if going_backwards(entries):
            regressions += 1
            figures.fail(f"{message.provider} {message.message_id}: history goes backwards: {entries}")
        if len(entries) != len(set(entries)):
            duplicated += 1
            figures.fail(f"{message.provider} {message.message_id}: a history entry twice: {entries}")
        acknowledged = {(message.status_of(w).value, w) for _, w in message.acknowledged}
        if not set(entries) <= acknowledged:
            figures.fail(f"{message.provider} {message.message_id}: history {entries} beyond {acknowledged}")
    figures.lost, figures.regressions = lost, regressions
    figures.notes.append(f"messages with a history entry twice: {duplicated}")


def going_backwards(entries: list[tuple[str, str]]) -> bool:
    """A change the rules forbid: anything after a final status but READ after DELIVERED."""
    for (before, _), (after, _) in itertools.pairwise(entries):
        if before != Status.PENDING and not (before == Status.DELIVERED and after == Status.READ):
            return True
    return False


def recount(target: Target) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(provider, hour) -> (submitted, delivered, failed) from the message items registered on DAY."""
    counts: dict[tuple[str, str], list[int]] = {}
    for item in scan(target.dynamodb, target.table):
        if item["sk"]["S"] != MESSAGE_SK or "registered_at" not in item:
            continue
        value = from_item(item)
        submitted = parse_time(value["submitted_at"])
        if not DAY <= submitted < DAY + timedelta(days=1):
            continue
        provider = identity(item["pk"]["S"])[0]
        hour = iso(bucket_of(submitted).replace(minute=0))
        row = counts.setdefault((provider, hour), [0, 0, 0])
        status = Status(value["status"])
        row[0] += 1
        if status.is_final:
            row[1 if status.is_success else 2] += 1
    return {key: (a, b, c) for key, (a, b, c) in counts.items()}


def stats(target: Target) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(provider, hour) -> (submitted, delivered, failed) as the customer API's /stats tells."""
    found = {}
    with closing(Connection("127.0.0.1", target.port, timeout=60)) as connection:
        for provider in ("infin8linx", "webcom"):
            query = f"provider={provider}&account=demo&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&window=3600"
            reply = connection.send(request_bytes("GET", f"/stats?{query}", target.host))
            for window in json.loads(reply.body)["windows"]:
                if window["submitted"]:
                    found[(provider, window["start"])] = (window["submitted"], window["delivered"], window["failed"])
    return found


def check_stats(target: Target, figures: Figures, wait: float = 180.0) -> None:
    """/stats equals the recount, once the stream function has caught up (bounded wait)."""
    deadline = time.monotonic() + wait
    told, counted = stats(target), recount(target)
    while told != counted and time.monotonic() < deadline:
        time.sleep(1.0)
        told, counted = stats(target), recount(target)
    figures.notes.append(f"/stats: {told}; recount: {counted}")
    if told != counted:
        figures.fail(f"/stats {told} differs from the recount {counted} after {wait:.0f} s")
    if not counted:
        figures.fail("nothing to count: the messages were not registered")
