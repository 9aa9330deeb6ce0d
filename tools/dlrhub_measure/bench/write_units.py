"""Write units per report kind and item sizes, measured on DynamoDB Local (run in a tree's runner).

Drives only the store's public API (``MessageStore(table, client=...)``, ``.apply(StatusReport)``,
``.register(Registration, now)``) through a client carrying :class:`capacity.CapacityMeter`,
and the webhook handler for the InnoPaaS seed example. Item sizes are read back with a Scan of a
table holding only the message in question, so they hold whatever layout the tree's store uses.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dlrhub_measure import aws
from dlrhub_measure.aws import create_table, put_accounts, scan, seed_example
from dlrhub_measure.bench.capacity import CapacityMeter, summary
from dlrhub_measure.functions import DESTINATION, load_function, register_message
from dlrhub_measure.item_size import item_size, write_units
from dlrhub_measure.runner import Channel
from dlrhub_measure.scale.checks import index_keys, stored_sizes, stream_figures

#: Fields of the seed example that are credentials or identity, not provider details.
NOT_DETAILS = ("receiver", "pswd", "msgid", "mobile", "status")


def _mentions(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(_mentions(inner, text) for inner in value.values())
    if isinstance(value, list):
        return any(_mentions(inner, text) for inner in value)
    return False


def sizes_of(client: Any, table: str, message_id: str) -> list[int]:
    """Sizes of the items that hold ``message_id`` (one per message today), largest first."""
    return sorted((item_size(item) for item in scan(client, table, 100) if _mentions(item, message_id)), reverse=True)


class Kinds:
    """Each report kind: its set-up (not metered), then the one action metered."""

    def __init__(self, tree: Path, client: Any) -> None:
        from dlrhub.domain.report import StatusReport
        from dlrhub.table.messages import MessageStore

        self.StatusReport = StatusReport
        self.client = client
        self.meter = CapacityMeter(client)
        self.table = create_table(tree, client, "bench-units")
        self.store = MessageStore(self.table, client=client)
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)

    def at(self, seconds: float) -> datetime:
        return self.base + timedelta(seconds=seconds)

    def report(self, message_id: str, status: str, raw: str, seconds: float, **extra: Any) -> Any:
        fields = {"provider": "infin8linx", "destination": DESTINATION, **extra}
        return self.StatusReport(
            account="bench",
            message_id=message_id,
            status=status,
            raw_status=raw,
            received_at=self.at(seconds),
            source="webhook",
            **fields,
        )

    def register(self, message_id: str, ref: str | None = None, provider: str = "infin8linx") -> None:
        register_message(self.store, provider, "bench", message_id, self.at(0), ref, registered=self.at(1), parts=1)

    def metered(self, action: Callable[[], Any]) -> dict[str, Any]:
        with self.meter.recording() as calls:
            action()
        return summary(calls)

    def all(self) -> dict[str, dict[str, Any]]:
        new = lambda: str(uuid.uuid4().int % 10**16)  # noqa: E731 - a fresh id per kind, digits (a Webcom id)
        found: dict[str, dict[str, Any]] = {}

        for label, ref in (("final report, registered message", None), ("final, registered with ref", "ref-1")):
            mid = new()
            self.register(mid, ref)
            found[label] = self.metered(lambda mid=mid: self.store.apply(self.report(mid, "DELIVERED", "1", 60)))

        mid = new()
        found["first report, unregistered message"] = self.metered(
            lambda: self.store.apply(self.report(mid, "DELIVERED", "1", 60))
        )

        for label, ref in (("PENDING refresh", None), ("PENDING refresh, registered with ref", "ref-2")):
            mid = new()
            self.register(mid, ref, provider="webcom")
            self.store.apply(self.report(mid, "PENDING", "send", 30, provider="webcom", destination=None))
            found[label] = self.metered(
                lambda mid=mid: self.store.apply(
                    self.report(mid, "PENDING", "partly_deliver", 90, provider="webcom", destination=None)
                )
            )

        mid = new()
        self.register(mid)
        self.store.apply(self.report(mid, "DELIVERED", "1", 60))
        found["duplicate report"] = self.metered(lambda: self.store.apply(self.report(mid, "DELIVERED", "1", 120)))

        for label, ref in (("registration", None), ("registration with ref", "ref-3")):
            mid = new()
            found[label] = self.metered(lambda mid=mid, ref=ref: self.register(mid, ref))

        mid = new()
        self.store.apply(self.report(mid, "DELIVERED", "1", 60))
        found["registration after its final report"] = self.metered(lambda: self.register(mid))
        return found


def innopaas_details(tree: Path) -> dict[str, str]:
    return {name: str(value) for name, value in seed_example(tree).items() if name not in NOT_DETAILS}


def typical_life(kinds: Kinds, tree: Path) -> list[dict[str, Any]]:
    """Registration, PENDING, PENDING refresh, DELIVERED, READ of one InnoPaaS-like message.

    Every report carries the seed example's provider details; DELIVERED its cost too. Each step:
    its write units and the item size after it (in a table of its own).
    """
    from dlrhub.domain.report import Cost
    from dlrhub.table.messages import MessageStore

    table = create_table(tree, kinds.client, "bench-life")
    store = MessageStore(table, client=kinds.client)
    seed = seed_example(tree)
    cost = Cost(amount=seed["fee"], currency=seed["currency"], parts=int(seed["smsNum"]))
    mid, number = seed["msgid"], seed["mobile"]
    every = {"provider": "innopaas", "destination": number, "details": innopaas_details(tree)}

    def report(status: str, raw: str, seconds: float, **extra: Any) -> Any:
        return kinds.report(mid, status, raw, seconds, provider_time=kinds.at(seconds - 2), **every, **extra)

    def register() -> None:
        at, registered = kinds.at(0), kinds.at(1)
        register_message(
            store, "innopaas", "bench", mid, at, "order-1001", registered=registered, destination=number, parts=1
        )

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("registration", register),
        ("PENDING", lambda: store.apply(report("PENDING", "ACCEPTD", 30))),
        ("PENDING refresh", lambda: store.apply(report("PENDING", "ENROUTE", 60))),
        ("DELIVERED", lambda: store.apply(report("DELIVERED", "DELIVRD", 90, cost=cost))),
        ("READ", lambda: store.apply(report("READ", "READ", 300))),
    ]
    life = []
    for name, action in steps:
        units = kinds.metered(action)
        life.append({"step": name, "units": units, "sizes": sizes_of(kinds.client, table, mid)})
    return life


def seed_example_size(tree: Path, client: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The InnoPaaS seed example sent to the webhook handler; the stored item's size."""
    from dlrhub.table.messages import MessageStore
    from dlrhub_local.gateway import LambdaContext

    table = create_table(tree, client, "bench-seed")
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    put_accounts(config["moto"], prefix, config["accounts"])
    handler = load_function(tree, "WebhookFunction", table, config | {"prefix": prefix})
    event = aws.event(tree, "webhook_innopaas_seed_example.json")
    body = json.loads(event["body"])
    found: dict[str, Any] = {}
    for label, message_id in (("unregistered", body["msgid"]), ("registered", "627239445736452999")):
        if label == "registered":
            now = datetime.now(UTC)
            store = MessageStore(table, client=client)
            register_message(store, "innopaas", "demo", message_id, now - timedelta(minutes=5), "order-1001",
                             registered=now, destination=body["mobile"], parts=1)  # fmt: skip
        call = copy.deepcopy(event)
        call["body"] = json.dumps({**body, "msgid": message_id})
        call["requestContext"]["requestId"] = str(uuid.uuid4())
        reply = handler(call, LambdaContext("WebhookFunction", call["requestContext"]["requestId"]))
        if reply.get("statusCode") != 200:
            raise RuntimeError(f"the seed example was not stored: {reply!r}")
        found[label] = sizes_of(client, table, message_id)
    return found


#: (label, stream records a window of one shard holds): a shard of ~50 at 10 M messages a day (~4 records a
#: message, 463 a second) over the 60 s window; at the 2,000 reports/s peak; a quiet shard (one small batch).
SCORECARD_WINDOWS = (
    ("busy shard, a minute at 10 M messages a day", 560),
    ("the same shard, TumblingWindowInSeconds 300", 2800),
    ("a minute at the 2,000 reports/s peak", 2400),
    ("quiet shard, 10 records a minute", 10),
)


def scorecard_units(tree: Path, client: Any, messages: int = 1200) -> dict[str, Any] | None:
    """The scorecard's write units per stream record and per final report: a steady mix of messages
    (one account 40 %, 3 providers, 8 countries, each registered, PENDING twice, then final) through the
    stream handler in tumbling windows of each size in SCORECARD_WINDOWS; only the scorecard's client metered."""
    try:
        from dlrhub.services.stream import Window, handle_batch
        from dlrhub.table.counters import StatsStore
        from dlrhub.table.scorecard import ScorecardStore
    except ImportError:
        return None  # a tree without the scorecard
    from dlrhub.domain.registration import Registration
    from dlrhub.domain.report import StatusReport
    from dlrhub.table.messages import MessageStore
    from dlrhub_measure.scale.checks import _stream_records

    rng = random.Random(7)
    table = create_table(tree, client, "bench-card")
    store = MessageStore(table, client=client)
    numbers = ["628131565746", "447700900123", "14165550123", "4915112345678", "33612345678", "919812345678"]
    numbers += ["5511987654321", "2348031234567"]
    lives = [
        (
            rng.choice(["infin8linx", "innopaas", "vonage"]),
            "big" if rng.random() < 0.4 else rng.choice(["a", "b", "c"]),
            str(10**9 + n),
            rng.choices(numbers, weights=[30, 20, 10, 10, 10, 10, 5, 5])[0],
            rng.choices(["DELIVERED", "FAILED", "EXPIRED", "UNKNOWN"], weights=[85, 8, 4, 3])[0],
        )
        for n in range(messages)
    ]
    # From the start of an hour: the 20 minutes of submissions fall in one hour whatever the time of the run
    # (across an hour's end, every row would be written twice over).
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    words = ["ACCEPTD", "ENROUTE"]
    for round_ in range(messages + 3):  # message k's step s in round k + s: a steady stream of every step
        for step in range(4):
            if not 0 <= round_ - step < messages:
                continue
            provider, account, mid, number, final = lives[round_ - step]
            at = base + timedelta(seconds=round_)
            if step == 0:
                reg = Registration(
                    provider=provider, account=account, message_id=mid, destination=number, submitted_at=at
                )
                store.register(reg, at)
                continue
            status = final if step == 3 else "PENDING"
            raw = final if step == 3 else words[step - 1]
            store.apply(
                StatusReport(
                    provider=provider, account=account, message_id=mid, status=status, raw_status=raw,
                    received_at=at, source="webhook",
                )
            )  # fmt: skip
    records = [
        r for r in _stream_records(client, client.meta.endpoint_url, table) if "NewImage" in r.get("dynamodb", {})
    ]
    finals = sum(1 for r in records if _settles(r))
    found: dict[str, Any] = {"records": len(records), "finals": finals}
    for label, size in SCORECARD_WINDOWS:
        metered = TransactionUnits(client)
        stats, card = StatsStore(table, client=client), ScorecardStore(table, client=metered)
        shard = f"bench-{uuid.uuid4().hex[:8]}"
        for first in range(0, len(records), size):
            window, state = records[first : first + size], {}
            for batch in (window[i : i + 50] for i in range(0, len(window), 50)):
                state = handle_batch(shard, batch, None, stats, card, Window(state, final=False)).state
            handle_batch(shard, [], None, stats, card, Window(state, final=True))
        found[label] = {"units": metered.units, "writes": metered.transactions, "items": metered.items, "window": size}
    return found


class TransactionUnits:
    """A DynamoDB client whose transactions are charged as AWS charges them: 2 write units per KB of each
    item (the larger of before and after: items only grow here, so after). DynamoDB Local reports 2 units
    for a whole transaction, whatever its items."""

    def __init__(self, client: Any) -> None:
        self._client, self.units, self.transactions, self.items = client, 0.0, 0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        reply = self._client.transact_write_items(**kwargs)
        self.transactions += 1
        for action in kwargs["TransactItems"]:
            key, table = action["Update"]["Key"], action["Update"]["TableName"]
            item = self._client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") or key
            self.units += 2 * write_units(item_size(item))
            self.items += 1
        return reply


def _settles(record: dict[str, Any]) -> bool:
    """Whether the record is a message's first final status."""
    new = record["dynamodb"].get("NewImage", {}).get("status", {}).get("S")
    old = record["dynamodb"].get("OldImage", {}).get("status", {}).get("S")
    return new not in (None, "PENDING", "SENT") and old in (None, "PENDING", "SENT")


def run(tree: Path, config: dict[str, Any], channel: Channel) -> None:
    client = aws.client("dynamodb", config["dynamodb"])
    kinds = Kinds(tree, client)
    result: dict[str, Any] = {"kinds": kinds.all(), "life": typical_life(kinds, tree)}
    result["scorecard"] = scorecard_units(tree, client, config.get("scorecard_messages", 1200))
    result["seed"] = seed_example_size(tree, client, config)
    result["breakdown"] = kinds.meter.breakdown_seen
    # the other lines of the bill (scale/bill.py): the stream function over what the kinds wrote, and
    # the bytes a settled message and its index entries keep for the retention
    result["stream"] = stream_figures(tree, config | {"prefix": "dlrhub/bench-units"}, kinds.table)
    result["sizes"] = stored_sizes(client, kinds.table, index_keys(tree))
    channel.send(**result)
