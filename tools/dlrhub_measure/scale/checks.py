"""The scale benchmark's measurements of one tree (run in that tree's runner, on DynamoDB Local).

Each function drives the tree's own code (its store, poller, handlers, stream function) with
the generated traffic and returns plain figures; :mod:`dlrhub_measure.scale.models` judges them.
Only the core's public interfaces are used: the ``MessageStore``/``Poller`` constructors, the
handlers' event shapes, the template.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import statistics
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dlrhub_measure import aws
from dlrhub_measure.aws import create_table, put_secret, scan, tree_template
from dlrhub_measure.functions import load_function, register_all, register_message
from dlrhub_measure.item_size import item_size
from dlrhub_measure.runner import Channel
from dlrhub_measure.scale.traffic import Second, peak_seconds
from dlrhub_measure.scale.watch import Watch, api_calls, index_writes, per_key_peak, watching, wrapped
from tests.aws_shapes import throttled
from tests.stream_support import lambda_record

WRITERS = 16


def dynamodb(endpoint: str) -> Any:
    return aws.client("dynamodb", endpoint, max_pool_connections=64, retries={"max_attempts": 2, "mode": "standard"})


def _function(tree: Path, logical_id: str, table: str, config: dict[str, Any], **extra: str) -> Any:
    """A function of the tree, quiet (no traces, errors only in its log)."""
    quiet = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR"}
    return load_function(tree, logical_id, table, config, **quiet, **extra)


# -- the peak: hot keys and the stream ---------------------------------------------------------


def _stream_records(client: Any, endpoint: str, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, every shard in order, shaped as Lambda hands them over."""
    streams = aws.client("dynamodbstreams", endpoint)
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        position = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(10_000):  # bounded: each page is up to 1,000 records
            reply = streams.get_records(ShardIterator=position, Limit=1000)
            records += [lambda_record(record, arn) for record in reply.get("Records", [])]
            position = reply.get("NextShardIterator")
            if not position or not reply.get("Records"):
                break
    return records


def _tick(client: Any, table: str, second: int) -> None:
    client.put_item(TableName=table, Item={"pk": {"S": f"TICK#{second}"}, "sk": {"S": "TICK"}})


def peak(tree: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Replay the busiest seconds through the tree's store: peak writes per key, per second, of the
    table and of each index; then the stream through the tree's stream function, on several shards."""
    client = dynamodb(config["dynamodb"])
    table = create_table(tree, client, "scale-peak")
    seconds = peak_seconds(config["seed"], config["peak_seconds"], config["scale"])
    watch = Watch()
    timings = _replay(tree, client, table, seconds, watch)
    table_writes = Counter({k: v for k, v in watch.writes.items() if k[0] >= 0})
    records = _stream_records(client, config["dynamodb"], table)
    indexes = index_keys(tree)
    peaks = {"table": per_key_peak(table_writes)} | _index_peaks(records, indexes)
    return {
        "seconds": len(seconds),
        "writes_per_second": sum(table_writes.values()) / len(seconds),
        "replay_seconds": timings,
        "peaks": {kind: {k: list(v) for k, v in found.items()} for kind, found in peaks.items()},
        "units": dict(watch.units),
        "index_units": dict(watch.index_units),
        "units_per_write": {work: watch.units_by_work[work] / done for work, done in watch.work_done.items() if done},
        "sizes": stored_sizes(client, table, indexes),
        "registrations": sum(len(s.registrations) for s in seconds),
        "reports": sum(len(s.reports) for s in seconds),
        "stream": _stream(tree, config, table, _messages_only(records)),
    }


def _replay(tree: Path, client: Any, table: str, seconds: list[Second], watch: Watch) -> list[float]:
    """Each second's writes through the tree's store, all writers at once, counted by ``watch`` against
    the second (what is registered before it is set-up, not counted); the seconds each took. Ticks in the
    table mark where each second's set-up and writes end in the stream."""
    from dlrhub.domain.report import StatusReport
    from dlrhub.table.messages import MessageStore

    store = MessageStore(table, client=client)
    now = datetime.now(UTC).replace(microsecond=0)

    def register_earlier(entry: tuple[str, str, str, str | None]) -> None:
        register_message(store, *entry[:3], now, entry[3])

    def register(entry: tuple[str, str, str, str | None]) -> None:
        with watch.doing("registration" if entry[3] is None else "registration with ref"):
            register_earlier(entry)

    def apply(entry: tuple[str, str, str, str, str]) -> None:
        provider, account, message_id, status, word = entry
        source = "poll" if provider == "huawei" else "webhook"
        report = StatusReport(provider=provider, account=account, message_id=message_id, status=status,
                              raw_status=word, received_at=datetime.now(UTC), source=source)  # fmt: skip
        with watch.doing("final report" if status != "PENDING" else "pending report"):
            store.apply(report)

    timings = []
    with watching(watch), ThreadPoolExecutor(WRITERS) as pool:
        for number, second in enumerate(seconds):
            watch.second = -1  # set-up: not counted against the second
            list(pool.map(register_earlier, second.earlier))
            _tick(client, table, -1 - number)
            watch.second = number
            # the second's registrations, then its reports (a message is sent before its reports come),
            # each in a shuffled order, all writers at once
            started = time.perf_counter()
            list(pool.map(register, sorted(second.registrations, key=lambda e: zlib.crc32(e[2].encode()))))
            list(pool.map(apply, sorted(second.reports, key=lambda e: zlib.crc32(e[2].encode()))))
            timings.append(time.perf_counter() - started)
            watch.second = -2
            _tick(client, table, number)
    return timings


def _index_peaks(records: list[dict[str, Any]], indexes: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Index name -> {"all": (the partition written most in one second, its writes)}, from the stream.

    Ticks split the stream into seconds: "set-up of second n" (TICK#-1-n) comes before its writes,
    "second n done" (TICK#n) after them."""
    second_of_record = []
    current = -1
    for record in records:
        pk = record["dynamodb"]["Keys"]["pk"]["S"]
        if pk.startswith("TICK#"):
            tick = int(pk.split("#", 1)[1])
            current = -tick - 1 if tick < 0 else -1
        second_of_record.append(current)
    peaks = {}
    for index, counts in index_writes(records, indexes, lambda n: second_of_record[n]).items():
        measured = Counter({k: v for k, v in counts.items() if k[0] >= 0})
        top = max(measured.items(), key=lambda item: item[1], default=((0, "-"), 0))
        peaks[index] = {"all": (top[0][1], top[1])}
    return peaks


def _messages_only(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stream's records but the ticks."""
    return [record for record in records if not record["dynamodb"]["Keys"]["pk"]["S"].startswith("TICK#")]


def index_keys(tree: Path) -> dict[str, tuple[str, str]]:
    """Index name -> (partition key, sort key) attribute names, from the tree's template."""
    return {
        index["IndexName"]: (index["KeySchema"][0]["AttributeName"], index["KeySchema"][1]["AttributeName"])
        for index in tree_template(tree).resources["MessagesTable"]["Properties"]["GlobalSecondaryIndexes"]
    }


def stream_figures(tree: Path, config: dict[str, Any], table: str) -> dict[str, Any]:
    """The table's stream so far through the tree's stream function (one shard): its ms a batch,
    write units a record (counters, checkpoints), log bytes a batch, events a status change."""
    records = _messages_only(_stream_records(dynamodb(config["dynamodb"]), config["dynamodb"], table))
    return _stream(tree, {"shards": 1, "transaction_hold": 0.0, **config}, table, records)


def stored_sizes(client: Any, table: str, indexes: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Mean stored bytes of a message item with a final status and of its entry in each index, as
    DynamoDB bills storage (item size + 100 B; an index entry: its keys, the table's keys, 100 B)."""
    sizes: list[int] = []
    entries: dict[str, list[int]] = {index: [] for index in indexes}
    for item in scan(client, table):
        if item.get("sk", {}).get("S") != "MSG" or item.get("status", {}).get("S") in (None, "PENDING"):
            continue
        sizes.append(item_size(item) + 100)
        table_key = item_size({k: item[k] for k in ("pk", "sk")})
        for index, (pk, sk) in indexes.items():
            if pk in item:
                entries[index].append(item_size({k: item[k] for k in (pk, sk) if k in item}) + table_key + 100)
    found = {"item": statistics.mean(sizes) if sizes else 0.0}
    # an index's bytes per message item (an entry only for the items that have its keys)
    found |= {index: sum(values) / len(sizes) if sizes else 0.0 for index, values in entries.items()}
    return found


def _lambda_event(batch: list[dict[str, Any]], shard: str) -> dict[str, Any]:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    return {
        "Records": batch,
        "shardId": shard,
        "eventSourceARN": batch[0]["eventSourceARN"],
        "window": {"start": start.isoformat(), "end": (start + timedelta(minutes=1)).isoformat()},
        "state": {},
        "isFinalInvokeForWindow": False,
        "isWindowTerminatedEarly": False,
    }


def _stream(tree: Path, config: dict[str, Any], table: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The records through the tree's stream function as Lambda's event source mapping hands them
    over: filtered by the template's FilterCriteria, split over ``shards`` shards by partition key
    (as DynamoDB places them), each shard's batches in order, all shards at once; a failed batch
    split in halves and retried, at most MaximumRetryAttempts times, then parked."""
    from dlrhub_local.gateway import LambdaContext
    from dlrhub_local.stream_reader import MappingSettings

    settings = MappingSettings.from_template(tree_template(tree), "StreamFunction")
    handler = _function(tree, "StreamFunction", table, config, PUBLISH_EVENTS="true", EVENT_BUS_NAME="default")
    shards = config["shards"]
    lanes: list[list[dict[str, Any]]] = [[] for _ in range(shards)]
    for record in records:
        if settings.wanted(record):
            lanes[zlib.crc32(record["dynamodb"]["Keys"]["pk"]["S"].encode()) % shards].append(record)
    watch = Watch(hold=config["transaction_hold"])
    failures, parked, durations, printed_bytes = Counter(), Counter(), [], []
    lock = threading.Lock()

    def deliver(shard: str, batch: list[dict[str, Any]], attempt: int) -> None:
        context = LambdaContext("StreamFunction", str(uuid.uuid4()), timeout_ms=60_000, started=time.monotonic())
        started = time.perf_counter()
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                handler(_lambda_event(batch, shard), context)
        except Exception:
            with lock:
                failures[shard] += 1
            if attempt >= settings.max_retries:
                with lock:
                    parked[shard] += len(batch)
                return
            time.sleep(0.01)
            if settings.bisect and len(batch) > 1:
                half = len(batch) // 2
                deliver(shard, batch[:half], attempt + 1)
                deliver(shard, batch[half:], attempt + 1)
            else:
                deliver(shard, batch, attempt + 1)
            return
        with lock:
            durations.append(time.perf_counter() - started)
            printed_bytes.append(len(printed.getvalue().encode()))

    def lane(number: int) -> None:
        shard = f"shardId-00000001700000000000-{number:08x}"
        batch = settings.batch_size
        for first in range(0, len(lanes[number]), batch):
            deliver(shard, lanes[number][first : first + batch], 0)

    started = time.perf_counter()
    with watching(watch), ThreadPoolExecutor(shards) as pool:
        list(pool.map(lane, range(shards)))
    elapsed = time.perf_counter() - started
    ids = [json.loads(entry["Detail"]).get("id") for entry in watch.events]
    changes = sum(1 for lane in lanes for record in lane if _status_changed(record))
    counter_writes = Counter({key: n for (_, key), n in watch.writes.items() if key.startswith("STATS#")})
    counted, expected = _counter_check(dynamodb(config["dynamodb"]), table)
    return {
        "shards": shards,
        "records": sum(len(lane) for lane in lanes),
        "filtered_out": len(records) - sum(len(lane) for lane in lanes),
        "conflicts": watch.conflicts,
        "failed_calls": sum(failures.values()),
        "parked_records": sum(parked.values()),
        "status_changes": changes,
        "events": len(ids),
        "distinct_events": len(set(ids)),
        "batch_seconds_median": statistics.median(durations) if durations else None,
        "log_bytes_per_batch": statistics.mean(printed_bytes) if printed_bytes else 0.0,
        "records_per_second": sum(len(lane) for lane in lanes) / elapsed if elapsed else None,
        "counted": counted,
        "expected": expected,
        "units": dict(watch.units),
        "transactions": watch.calls["TransactWriteItems"],
        "counter_items": len(counter_writes),
        "busiest_counter_writes": max(counter_writes.values(), default=0),
    }


def _status_changed(record: dict[str, Any]) -> bool:
    images = record["dynamodb"]
    new, old = images.get("NewImage") or {}, images.get("OldImage") or {}
    return new.get("sk", {}).get("S") == "MSG" and "status" in new and old.get("status") != new["status"]


def _counter_check(client: Any, table: str) -> tuple[dict[str, int], dict[str, int]]:
    """The counters' totals, and the same counted from the message items (a Scan: benchmark only)."""
    counted: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for item in scan(client, table):
        if item["pk"]["S"].startswith("STATS#"):
            counted.update({k: int(v["N"]) for k, v in item.items() if k in ("submitted", "delivered", "failed")})
        elif item.get("sk", {}).get("S") == "MSG" and "registered_at" in item:
            expected["submitted"] += 1
            status = item["status"]["S"]
            if status in ("DELIVERED", "READ"):
                expected["delivered"] += 1
            elif status not in ("PENDING", "SENT"):
                expected["failed"] += 1
    return dict(counted), dict(expected)


# -- the poller in virtual time -----------------------------------------------------------------


class VirtualTime:
    """A function's clock that moves with the work it does, at AWS's speeds, not this machine's.

    Each provider request costs ``request_seconds`` and each table write ``write_seconds``,
    divided by the calls of its kind in flight at once (work done in parallel overlaps), and
    multiplied by ``stretch`` (1 / the traffic's scale: a tenth of the messages, each call ten
    times as long, keeps what a run can do to what it must do as at full scale)."""

    def __init__(self, start: datetime, stretch: float, request_seconds: float, write_seconds: float) -> None:
        self._lock = threading.Lock()
        self.now = start
        self.stretch = stretch
        self.request_seconds = request_seconds
        self.write_seconds = write_seconds
        self.run_started = start
        self._in_flight: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()  # calls begun, by kind ("request", "write")

    def clock(self) -> datetime:
        with self._lock:
            return self.now

    def elapsed(self) -> float:
        with self._lock:
            return (self.now - self.run_started).total_seconds()

    def begin(self, kind: str) -> None:
        with self._lock:
            self._in_flight[kind] += 1
            self.calls[kind] += 1
            cost = (self.request_seconds if kind == "request" else self.write_seconds) * self.stretch
            self.now += timedelta(seconds=cost / self._in_flight[kind])

    def end(self, kind: str) -> None:
        with self._lock:
            self._in_flight[kind] -= 1

    @contextlib.contextmanager
    def charged(self, kind: str) -> Iterator[None]:
        """A call of ``kind`` (from :meth:`begin` to :meth:`end`)."""
        self.begin(kind)
        try:
            yield
        finally:
            self.end(kind)

    def start_run(self, at: datetime) -> None:
        with self._lock:
            self.now = at
            self.run_started = at


@contextlib.contextmanager
def virtual_io(time_: VirtualTime, http: Any) -> Iterator[None]:
    """Charge the tree's provider requests (its HttpClient) and table writes to virtual time."""

    def writes(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation not in ("UpdateItem", "PutItem", "DeleteItem"):
                return original(client, operation, params)
            with time_.charged("write"):
                return original(client, operation, params)

        return call

    def requests(original: Callable[..., Any]) -> Callable[..., Any]:
        def request(*args: Any, **kwargs: Any) -> Any:
            with time_.charged("request"):
                return original(*args, **kwargs)

        return request

    with api_calls(writes), wrapped(http, "request", requests):
        yield


def _poller_parts(tree: Path, config: dict[str, Any], table: str, client: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from dlrhub.adapters.http import HttpClient, HttpSettings
    from dlrhub.adapters.secrets import AccountDirectory
    from dlrhub.providers.contract import POLLING
    from dlrhub.providers.registry import PROVIDERS
    from dlrhub.table.leases import Coordination
    from dlrhub.table.messages import MessageStore

    secrets = aws.client("secretsmanager", config["moto"])
    return {
        "directory": AccountDirectory(
            config["prefix"], PROVIDERS, POLLING, max_age=3600, secrets=SecretsProvider(boto3_client=secrets)
        ),
        "store": MessageStore(table, client=client, max_connections=64),
        "coordination": Coordination(table, client=client),
        "http": HttpClient(HttpSettings(read_timeout=5.0, pool_size=32)),
    }


def _poller(parts: dict[str, Any], settings: Any, remaining: Any, **extra: Any) -> Any:
    from dlrhub.services.poller import Poller

    wiring = (parts["directory"], parts["store"], parts["coordination"], parts["http"], settings)
    return Poller(*wiring, remaining=remaining, owner=uuid.uuid4().hex, **extra)


def _runs(parts: dict[str, Any], time_: VirtualTime, targets: list[tuple[str, str]], at: datetime) -> Any:
    """One scheduled poll as the tree deploys it: one invocation per account, each with 300 s; the
    virtual time each took, with its runs."""
    from dlrhub.services.poller import PollSettings

    settings = PollSettings(concurrency=8, write_concurrency=16, reserve=timedelta(seconds=20))
    found = []
    for target in targets:
        time_.start_run(at)
        poller = _poller(parts, settings, lambda: timedelta(seconds=300 - time_.elapsed()), clock=time_.clock)
        runs = poller.run([target])
        found.append((time_.elapsed(), runs))
    return found


def window(tree: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Huawei read by time window, hours of a day at ``scale``: does the window keep up while some
    messages never get a status? Coverage of the reports due, the checkpoint's lag, requests a run."""
    from dlrhub_local.simulators import HuaweiSimulator

    client = dynamodb(config["dynamodb"])
    table = create_table(tree, client, "scale-window")
    scale, hours, token = config["window_scale"], config["window_hours"], "scale-token"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours + 1)
    time_ = VirtualTime(start, 1 / scale, request_seconds=0.2, write_seconds=0.01)
    rng = random.Random(config["seed"])
    per_hour = 2_000_000 / 24 * scale  # Huawei's share of 10 M a day
    due: dict[str, float] = {}
    with HuaweiSimulator(tokens=(token,), clock=lambda: time_.clock().timestamp()) as huawei:
        put_secret(config["moto"], f"{config['prefix']}/huawei/scale", huawei.account_secret(token=token))
        count = int(per_hour * hours)
        for n in range(count):
            submitted = start + timedelta(seconds=rng.uniform(0, hours * 3600))
            never = rng.random() < 0.01  # a carrier that never says: no status for ever
            delay = rng.expovariate(1 / 60) if rng.random() < 0.95 else rng.uniform(300, 3600)
            settled = submitted + timedelta(seconds=delay)
            after = settled.timestamp() - time.time()  # the simulator's final_at is real time + after
            huawei.add(f"hw{n:07d}", 0 if never else 1, submitted=submitted.timestamp(), after=after)
            if not never:
                due[f"hw{n:07d}"] = settled.timestamp()
        parts = _poller_parts(tree, config, table, client)
        coordination = parts["coordination"]
        coordination.save_checkpoint("huawei#scale", (start - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        runs_done, requests, durations = 0, [], []
        at = start
        with virtual_io(time_, parts["http"]):
            while at < start + timedelta(hours=hours):
                at += timedelta(minutes=5)
                before = huawei.requests
                for elapsed, _ in _runs(parts, time_, [("huawei", "scale")], at):
                    durations.append(elapsed)
                requests.append(huawei.requests - before)
                runs_done += 1
        end = at
        cursor = coordination.checkpoint("huawei#scale") or ""
    ready = [mid for mid, when in due.items() if when <= (end - timedelta(minutes=15)).timestamp()]
    stored = _stored(client, table, "huawei", "scale", ready)
    lag = (end - datetime.fromisoformat(cursor.replace("Z", "+00:00"))).total_seconds() if cursor else None
    return {
        "messages": count,
        "runs": runs_done,
        "due": len(ready),
        "stored": stored,
        "coverage": stored / len(ready) if ready else None,
        "checkpoint_lag_seconds": lag,
        "requests_last_runs": requests[-3:],
        "requests_total": sum(requests),
        "writes_per_run": time_.calls["write"] / max(runs_done, 1),
        "longest_run_seconds": max(durations) if durations else None,
        "mean_run_seconds": statistics.mean(durations) if durations else 0.0,
    }


def _stored(client: Any, table: str, provider: str, account: str, ids: list[str]) -> int:
    """How many of ``ids`` have a final status stored."""
    keys = [(provider, account, message_id) for message_id in ids]
    read = {"ProjectionExpression": "#s", "ExpressionAttributeNames": {"#s": "status"}}
    return sum(item["status"]["S"] != "PENDING" for item in aws.message_items(client, table, keys, **read))


def by_id(tree: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Webcom (one id a request) with more messages pending than a run can ask about, on three accounts,
    beside an Infin8linx account with a day's outage to close by rule, for several scheduled runs."""
    from dlrhub_local.simulators import WebcomSimulator

    client = dynamodb(config["dynamodb"])
    table = create_table(tree, client, "scale-byid")
    scale = config["byid_scale"]
    start = datetime.now(UTC).replace(microsecond=0)
    time_ = VirtualTime(start, 1 / scale, request_seconds=0.25, write_seconds=0.01)
    pending = {"big": int(20_000 * scale), "mid": int(6_000 * scale), "small": int(4_000 * scale)}
    stale = int(40_000 * scale)  # the outage's messages, past MaxPendingHours
    parts = _poller_parts(tree, config, table, client)
    with WebcomSimulator({"login-scale": "pw-scale"}) as webcom:
        ids = _pending_by_id(webcom, parts["store"], config, pending, stale, start)
        targets = [("webcom", account) for account in pending] + [("infin8linx", "outage")]
        invocations, closed = [], 0
        coverage_runs: dict[str, int | None] = dict.fromkeys(pending)
        at = start
        with virtual_io(time_, parts["http"]):
            for number in range(config["byid_runs"]):
                at += timedelta(minutes=5)
                for elapsed, runs in _runs(parts, time_, targets, at):
                    invocations.append(elapsed)
                    closed += sum(run.closed for run in runs)
                seen = _webcom_asked(webcom)
                for account in (a for a in pending if coverage_runs[a] is None and set(ids[a]) <= seen):
                    coverage_runs[account] = number + 1
        seen = _webcom_asked(webcom)
    asked = {account: len(set(ids[account]) & seen) for account in pending}
    return {
        "pending": pending,
        "asked": asked,
        "coverage": {account: asked[account] / pending[account] for account in pending},
        "runs_to_cover": coverage_runs,
        "runs": config["byid_runs"],
        "stale": stale,
        "closed": closed,
        "longest_invocation_seconds": max(invocations),
        "mean_invocation_seconds": statistics.mean(invocations),
        "invocations": len(invocations),
        "over_timeout": sum(1 for seconds in invocations if seconds > 300),
    }


def _pending_by_id(webcom: Any, store: Any, config: dict[str, Any], pending: dict[str, int], stale: int,
                   start: datetime) -> dict[str, list[str]]:  # fmt: skip
    """Webcom messages pending (``pending``: account -> how many) on the simulator, and ``stale``
    Infin8linx messages past MaxPendingHours (push only: the no-receipt rule is the work), registered;
    account -> the Webcom ids."""
    for account in pending:
        put_secret(config["moto"], f"{config['prefix']}/webcom/{account}", webcom.account_secret())
    put_secret(config["moto"], f"{config['prefix']}/infin8linx/outage", {"webhook_secret": "w" * 43})
    serials = iter(range(80_000_001, 80_000_001 + sum(pending.values())))
    ids = {account: [str(next(serials)) for _ in range(number)] for account, number in pending.items()}
    registrations = [
        ("webcom", a, i, start - timedelta(minutes=30)) for a, account_ids in ids.items() for i in account_ids
    ]
    registrations += [("infin8linx", "outage", f"stale{n}", start - timedelta(hours=80)) for n in range(stale)]
    for message_id in (i for account_ids in ids.values() for i in account_ids):
        webcom.add(message_id, "send")
    register_all(store, registrations, WRITERS)
    return ids


def _webcom_asked(webcom: Any) -> set[str]:
    found = set()
    for request in webcom.received():
        if request.path != "/json/state.php":
            continue
        raw = request.json().get("id_sms")
        found.update(str(i) for i in (raw if isinstance(raw, list) else [raw]))
    return found


# -- 503s, and a carrier's final word without a receipt -------------------------------------------


def _metric_names(printed: str) -> set[str]:
    names = set()
    for line in printed.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                names |= {metric["Name"] for metric in directive["Metrics"]}
    return names


def unavailable(tree: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The tree's webhook function with the table throttling (AWS's error shape): its answer, and the
    metrics it emits that a stored report does not (what an alarm could watch)."""
    from dlrhub_local.gateway import LambdaContext

    client = dynamodb(config["dynamodb"])
    table = create_table(tree, client, "scale-503")
    handler = _function(tree, "WebhookFunction", table, config, POWERTOOLS_METRICS_NAMESPACE="DLRHub")
    event = aws.event(tree, "webhook_infin8linx_delivered.json")
    event["pathParameters"]["secret"] = config["accounts"]["infin8linx"]["webhook_secret"]
    found = {}
    for case in ("stored", "throttled"):
        watch = Watch()
        if case == "throttled":
            watch.fault = ("UpdateItem", throttled)
        printed = io.StringIO()
        with watching(watch), contextlib.redirect_stdout(printed):
            reply = handler(event, LambdaContext("WebhookFunction", str(uuid.uuid4())))
        found[case] = {"status": reply["statusCode"], "metrics": sorted(_metric_names(printed.getvalue()))}
    durations, printed_bytes = [], []
    for n in range(config["warm_reports"]):
        fresh = {**event, "rawQueryString": event["rawQueryString"].replace("msgid=", f"msgid=9{n:09d}", 1)}
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            started = time.perf_counter()
            handler(fresh, LambdaContext("WebhookFunction", str(uuid.uuid4())))
            durations.append(time.perf_counter() - started)
        printed_bytes.append(len(printed.getvalue().encode()))
    found["warm_ms"] = statistics.median(durations[len(durations) // 5 :]) * 1000 if durations else None
    found["log_bytes"] = statistics.median(printed_bytes) if printed_bytes else 0
    return found


def sent_without_receipt(tree: Path, config: dict[str, Any]) -> dict[str, Any]:
    """AWS End User Messaging's TEXT_SUCCESSFUL with isFinal, for a message sent 73 hours ago, then the
    tree's no-receipt rule: the status it ends in (AWS calls the first one final)."""
    from dlrhub_local.gateway import LambdaContext

    client = dynamodb(config["dynamodb"])
    table = create_table(tree, client, "scale-sent")
    handler = _function(tree, "EventsInFunction", table, config, EVENTS_ACCOUNT="scale")
    parts = _poller_parts(tree, config, table, client)
    event = aws.event(tree, "eventbridge_awseum_successful.json")
    message_id = event["detail"]["messageId"]
    submitted = datetime.now(UTC) - timedelta(hours=73)
    register_message(parts["store"], "awseum", "scale", message_id, submitted)
    with contextlib.redirect_stdout(io.StringIO()):
        handler(event, LambdaContext("EventsInFunction", str(uuid.uuid4())))
    after_event = parts["store"].get("awseum", "scale", message_id)["status"]
    from dlrhub.services.poller import PollSettings

    _poller(parts, PollSettings(), lambda: timedelta(minutes=5)).run([("awseum", "scale")])
    final = parts["store"].get("awseum", "scale", message_id)
    return {"after_event": after_event, "after_rule": final["status"], "raw": final.get("raw_status")}


CHECKS = {
    "peak": peak,
    "window": window,
    "by-id": by_id,
    "unavailable": unavailable,
    "sent": sent_without_receipt,
}


def run(tree: Path, config: dict[str, Any], channel: Channel) -> None:
    channel.send(**{name: CHECKS[name](tree, config) for name in config["checks"]})
