"""Write units per report kind and item sizes, measured on DynamoDB Local (runs in a tree's runner).

Drives only the store's public API (``MessageStore(table, client=...)``, ``.apply(StatusReport)``,
``.register(Registration, now)``) through a client carrying :class:`bench.capacity.CapacityMeter`,
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

import boto3

from bench.capacity import CapacityMeter, summary
from bench.item_size import item_size, write_units
from bench.lambda_env import DUMMY_CREDENTIALS, REGION, function_environment, tree_template
from bench.samples import put_accounts, seed_example

#: Fields of the seed example that are credentials or identity, not provider details.
NOT_DETAILS = ("receiver", "pswd", "msgid", "mobile", "status")
DESTINATION = "628131565746"


def dynamodb_client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def create_table(tree: Path, client: Any, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client.create_table(**tree_template(tree).table_definition("MessagesTable", name))
    return name


def scan_items(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a (small, benchmark-only) table."""
    items: list[dict[str, Any]] = []
    args: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    for _ in range(100):
        reply = client.scan(**args)
        items += reply.get("Items", [])
        if "LastEvaluatedKey" not in reply:
            break
        args["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
    return items


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
    return sorted((item_size(item) for item in scan_items(client, table) if _mentions(item, message_id)), reverse=True)


class Kinds:
    """Each report kind: its set-up (not metered), then the one action metered."""

    def __init__(self, tree: Path, client: Any) -> None:
        from dlrhub.domain.registration import Registration
        from dlrhub.domain.report import StatusReport
        from dlrhub.table.messages import MessageStore

        self.Registration, self.StatusReport = Registration, StatusReport
        self.client = client
        self.meter = CapacityMeter(client)
        self.table = create_table(tree, client, "bench-units")
        self.store = MessageStore(self.table, client=client)
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)

    def at(self, seconds: float) -> datetime:
        return self.base + timedelta(seconds=seconds)

    def registration(self, message_id: str, *, ref: str | None = None, provider: str = "infin8linx") -> Any:
        return self.Registration(
            provider=provider,
            account="bench",
            message_id=message_id,
            destination=DESTINATION,
            submitted_at=self.at(0),
            parts=1,
            customer_ref=ref,
        )

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
        self.store.register(self.registration(message_id, ref=ref, provider=provider), self.at(1))

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

    table = create_table(tree, kinds.client, "bench-life")
    from dlrhub.table.messages import MessageStore

    store = MessageStore(table, client=kinds.client)
    seed = seed_example(tree)
    details = innopaas_details(tree)
    cost = Cost(amount=seed["fee"], currency=seed["currency"], parts=int(seed["smsNum"]))
    mid = seed["msgid"]
    number = seed["mobile"]

    def report(status: str, raw: str, seconds: float, **extra: Any) -> Any:
        return kinds.report(
            mid,
            status,
            raw,
            seconds,
            provider="innopaas",
            destination=number,
            provider_time=kinds.at(seconds - 2),
            details=details,
            **extra,
        )

    registration = kinds.Registration(
        provider="innopaas",
        account="bench",
        message_id=mid,
        destination=number,
        submitted_at=kinds.at(0),
        parts=1,
        customer_ref="order-1001",
    )
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("registration", lambda: store.register(registration, kinds.at(1))),
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


def seed_example_size(tree: Path, client: Any, dynamodb: str, moto: str, accounts: dict[str, Any]) -> dict[str, Any]:
    """The InnoPaaS seed example sent to the webhook handler; the stored item's size."""
    import os

    from dlrhub_local.gateway import LambdaContext, load_handler

    table = create_table(tree, client, "bench-seed")
    template = tree_template(tree)
    function = template.functions()["WebhookFunction"]
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(DUMMY_CREDENTIALS)
    put_accounts(moto, prefix, accounts)
    os.environ.update(function_environment(template, function, table))
    os.environ.update(
        {"AWS_ENDPOINT_URL_DYNAMODB": dynamodb, "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto, "SECRETS_PREFIX": prefix}
    )
    handler = load_handler(function)
    event = json.loads((tree / "events" / "webhook_innopaas_seed_example.json").read_text())
    [body] = [json.loads(event["body"])]
    found: dict[str, Any] = {}
    for label, message_id, register in (
        ("unregistered", body["msgid"], False),
        ("registered", "627239445736452999", True),
    ):
        if register:
            from dlrhub.domain.registration import Registration
            from dlrhub.table.messages import MessageStore

            registration = Registration(
                provider="innopaas",
                account="demo",
                message_id=message_id,
                destination=body["mobile"],
                submitted_at=datetime.now(UTC) - timedelta(minutes=5),
                parts=1,
                customer_ref="order-1001",
            )
            MessageStore(table, client=client).register(registration, datetime.now(UTC))
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
    from bench.scale_checks import _stream_records
    from dlrhub.domain.registration import Registration
    from dlrhub.domain.report import StatusReport
    from dlrhub.table.messages import MessageStore

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
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
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


def measure(
    tree: Path, dynamodb: str, moto: str, accounts: dict[str, Any], scorecard_messages: int = 1200
) -> dict[str, Any]:
    client = dynamodb_client(dynamodb)
    kinds = Kinds(tree, client)
    result: dict[str, Any] = {"kinds": kinds.all(), "life": typical_life(kinds, tree)}
    result["scorecard"] = scorecard_units(tree, client, scorecard_messages)
    result["seed"] = seed_example_size(tree, client, dynamodb, moto, accounts)
    result["breakdown"] = kinds.meter.breakdown_seen
    # the other lines of the bill (bench/bill.py): the stream function over what the kinds wrote, and
    # the bytes a settled message and its index entries keep for the retention
    from bench.scale_checks import index_keys, stored_sizes, stream_figures

    config = {"dynamodb": dynamodb, "moto": moto, "prefix": "dlrhub/bench-units"}
    result["stream"] = stream_figures(tree, config, kinds.table)
    result["sizes"] = stored_sizes(client, kinds.table, index_keys(tree))
    return result
