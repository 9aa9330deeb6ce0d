"""``python -m bench.poller_bench``: one Poller run over 10,000 pending Infin8linx messages.

moto server holds the table (created from template.yaml); the Infin8linx simulator answers
``/sms/state`` with a fixed latency per request. Printed per concurrency: requests made
(the floor is one per 100 ids), wall time against the ideal ``requests / concurrency x
latency``, the time the store's writes took, DynamoDB read units per pending message as
the endpoint reports them and as DynamoDB would charge them, and the statuses stored.

Loopback only; every loop is bounded. ``--final-share 0`` leaves every message without a
receipt, so no status is written: that run measures the request pipeline alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config

from dlrhub.accounts import AccountDirectory
from dlrhub.coordination import Coordination
from dlrhub.http import HttpClient, HttpSettings
from dlrhub.models import StatusReport
from dlrhub.poller import Poller, PollSettings
from dlrhub.registration import Registration
from dlrhub.store import MESSAGE_SK, ApplyResult, MessageStore, message_key, pending_partition
from dlrhub.timefmt import iso
from dlrhub_local.processes import dynamodb_local_jar, start_dynamodb_local, start_moto
from dlrhub_local.simulators import Infin8linxSimulator
from dlrhub_local.stack import aws_environment
from dlrhub_local.template import Template

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
PROVIDER = "infin8linx"
SPID, PASSWORD = "bench-spid", "bench-password"
#: Attributes the ``pending`` index holds (keys and INCLUDE projection, template.yaml): what a query reads.
INDEX_ATTRIBUTES = ("pk", "sk", "pending_pk", "pending_sk", "provider", "account", "message_id", "status")


class CountingClient:
    """The boto3 DynamoDB client, noting the item count of each ``query`` page (the pending index)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.pages: list[int] = []
        self.seconds = 0.0
        self._lock = threading.Lock()

    def query(self, **kwargs: Any) -> Any:
        started = time.perf_counter()
        reply = self._client.query(**kwargs)
        with self._lock:
            self.pages.append(int(reply.get("Count", 0)))
            self.seconds += time.perf_counter() - started
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class TimedStore(MessageStore):
    """The real store, timing each ``apply`` (one conditional UpdateItem)."""

    def __init__(self, table: str, *, client: Any) -> None:
        super().__init__(table, client=client)
        self.writes = 0
        self.write_seconds = 0.0
        self.outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def apply(self, report: StatusReport) -> ApplyResult:
        started = time.perf_counter()
        result = super().apply(report)
        with self._lock:
            self.writes += 1
            self.write_seconds += time.perf_counter() - started
            self.outcomes[report.status.value] += 1
        return result


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute name lengths plus value lengths (strings, numbers as text)."""
    return sum(len(name) + len(next(iter(value.values()))) for name, value in item.items())


def seed(client: Any, table: str, account: str, count: int, now: datetime) -> dict[str, Any]:
    """``count`` pending messages, written with BatchWriteItem in the exact shape MessageStore.register gives.

    The shape is taken from a message registered through the store, cloned per id, and checked
    against a second one registered for real.
    """
    store = MessageStore(table, client=client)

    def registration(message_id: str) -> Registration:
        return Registration(
            provider=PROVIDER, account=account, message_id=message_id, destination="628131565746", submitted_at=now
        )

    def stored(message_id: str) -> dict[str, Any]:
        key = {name: {"S": value} for name, value in message_key(PROVIDER, account, message_id).items()}
        return client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]

    store.register(registration("shape"), now)
    shape = stored("shape")

    def clone(message_id: str) -> dict[str, Any]:
        item = dict(shape)
        item["pk"] = {"S": message_key(PROVIDER, account, message_id)["pk"]}
        item["message_id"] = {"S": message_id}
        item["pending_pk"] = {"S": pending_partition(PROVIDER, account, message_id)}
        item["pending_sk"] = {"S": f"{iso(now)}#{message_id}"}
        item["acct_sk"] = {"S": f"{iso(now)}#{message_id}"}
        return item

    store.register(registration("check"), now)
    if clone("check") != stored("check"):
        raise RuntimeError("a cloned item differs from a registered one: the store's item layout changed")
    for message_id in ("shape", "check"):
        key = {"pk": {"S": message_key(PROVIDER, account, message_id)["pk"]}, "sk": {"S": MESSAGE_SK}}
        client.delete_item(TableName=table, Key=key)

    ids = [str(3_700_000_000 + i) for i in range(count)]
    batches = [ids[start : start + 25] for start in range(0, count, 25)]

    def write(batch: list[str]) -> None:
        requests = {table: [{"PutRequest": {"Item": clone(message_id)}} for message_id in batch]}
        for _ in range(20):
            unprocessed = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not unprocessed:
                return
            requests = unprocessed
            time.sleep(0.05)
        raise RuntimeError("BatchWriteItem kept leaving items unprocessed")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, batches))
    return shape


def run_once(endpoint: str, table_endpoint: str, table: str, args: argparse.Namespace, concurrency: int) -> None:
    """``endpoint``: moto server (Secrets Manager); ``table_endpoint``: where the table lives."""
    boto = boto3.client(
        "dynamodb",
        endpoint_url=table_endpoint,
        region_name=REGION,
        config=Config(max_pool_connections=4 * concurrency + 8, retries={"max_attempts": 10, "mode": "standard"}),
    )
    client = CountingClient(boto)
    account = f"bench-c{concurrency}-{uuid.uuid4().hex[:6]}"
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC) - timedelta(minutes=5)

    with Infin8linxSimulator({SPID: PASSWORD}) as simulator:
        secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION)
        secret = simulator.account_secret(SPID)
        secrets.create_secret(Name=f"{prefix}/{PROVIDER}/{account}", SecretString=json.dumps(secret))
        started = time.monotonic()
        shape = seed(boto, table, account, args.messages, now)
        seeded = time.monotonic() - started
        finals = round(args.messages * args.final_share)
        for i in range(args.messages):
            simulator.add(str(3_700_000_000 + i), (1 if i % 10 < 7 else 2) if i < finals else 0)
        simulator.latency = args.latency

        store = TimedStore(table, client=client)
        poller = Poller(
            AccountDirectory(prefix, provider=SecretsProvider(boto3_client=secrets)),
            store,
            Coordination(table, client=boto),
            HttpClient(HttpSettings(read_timeout=max(10.0, 20 * args.latency), pool_size=2 * concurrency)),
            PollSettings(concurrency=concurrency, write_concurrency=2 * concurrency, reserve=timedelta(seconds=1)),
            remaining=lambda: timedelta(minutes=15),
            owner=uuid.uuid4().hex,
        )
        started = time.monotonic()
        [run] = poller.run([(PROVIDER, account)])
        wall = time.monotonic() - started
        pages, read_seconds = list(client.pages), client.seconds
        requests = simulator.requests_to("/sms/state")
        arrivals = [request.received_at for request in simulator.received("/sms/state")]

    read_units = store.read_units
    left = sum(len(page) for page in MessageStore(table, client=client).pending(PROVIDER, account))
    ideal = requests / concurrency * args.latency
    floor = math.ceil(args.messages / 100)
    index_bytes = item_size({name: shape[name] for name in INDEX_ATTRIBUTES if name in shape})
    # DynamoDB: a query page costs ceil(bytes read / 4 KB) units, halved for eventually consistent reads
    # (at least 0.5 a page, even an empty one).
    charged = sum(max(math.ceil(count * index_bytes / 4096), 1) * 0.5 for count in pages)
    print(f"concurrency {concurrency}")
    print(f"  seeded                 {args.messages} pending messages in {seeded:.1f} s")
    print(f"  requests made          {requests} (floor {floor}: {args.messages} ids, 100 per request)")
    print(
        f"  wall time              {wall:.2f} s   ideal {ideal:.2f} s "
        f"({requests} requests / {concurrency} x {args.latency * 1000:.0f} ms)   ratio {wall / ideal:.1f}"
    )
    if arrivals:
        print(f"  requests spread over   {max(arrivals) - min(arrivals):.2f} s (first to last arrival)")
    mean = store.write_seconds / store.writes * 1000 if store.writes else 0.0
    print(
        f"  store writes           {store.writes} UpdateItem, {mean:.1f} ms mean, "
        f"{store.write_seconds:.1f} s summed over {concurrency} threads"
    )
    print(
        f"  DynamoDB reads         {len(pages)} pending-index query pages ({read_seconds:.1f} s);"
        f" the endpoint reports {read_units:g} read units"
        f" = {read_units / args.messages:.5f} per pending message"
    )
    print(
        f"                         DynamoDB would charge ~{charged:g} RCU (index entry ~{index_bytes} B, pages as read,"
        f" eventually consistent) = {charged / args.messages:.5f} per pending message"
    )
    outcomes = ", ".join(f"{status} {count}" for status, count in sorted(store.outcomes.items()))
    print(
        f"  statuses stored        {run.stored} ({outcomes or 'none'}); ignored {run.ignored}; "
        f"failures {run.failures}; still pending {left}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.poller_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the simulator takes per request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--final-share", type=float, default=1.0, help="share of messages with a receipt (0-1)")
    parser.add_argument(
        "--dynamodb",
        choices=["moto", "local"],
        default="moto",
        help="the table on moto server, or on AWS's DynamoDB Local (make setup installs it; needs Java)",
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or not 0 <= args.final_share <= 1:
        parser.error("--messages must be >= 1 and --final-share in 0..1")

    where = "moto server" if args.dynamodb == "moto" else "DynamoDB Local"
    print(
        f"Poller benchmark: {args.messages} pending {PROVIDER} messages, simulator latency "
        f"{args.latency * 1000:.0f} ms/request, {args.final_share:.0%} with a receipt, DynamoDB on {where}"
    )
    moto = start_moto()
    local = None
    try:
        os.environ.update(aws_environment(moto.endpoint))  # dummy keys; every other AWS call goes to moto
        table_endpoint = moto.endpoint
        if args.dynamodb == "local":
            jar = dynamodb_local_jar(ROOT / ".cache" / "dynamodb-local")
            if jar is None:
                parser.error("DynamoDB Local is not installed: run make setup")
            local = start_dynamodb_local(jar)
            table_endpoint = local.endpoint
        boto = boto3.client("dynamodb", endpoint_url=table_endpoint, region_name=REGION)
        table = f"bench-{uuid.uuid4().hex[:8]}"
        boto.create_table(**Template(ROOT / "template.yaml").table_definition("MessagesTable", table))
        for concurrency in args.concurrency:
            run_once(moto.endpoint, table_endpoint, table, args, concurrency)
    finally:
        if local is not None:
            local.stop()
        moto.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
