"""The poller function over N pending Infin8linx messages: the Infin8linx simulator in the parent
(:func:`measure`), the tree's ``PollerFunction`` handler in a runner (:func:`run`).

The runner seeds N registered messages through ``MessageStore.register``, then invokes the handler
once per case, when the parent says so (it sets the simulator's answers in between):
``nothing-new`` (every message still pending at the provider) and ``all-final``. The simulator
answers ``/sms/state`` after ``latency`` seconds (its own process, so it does not share the poller's
interpreter lock); its request counts are the figures' "requests made". Just before and just after
``all-final``, DynamoDB Local's conditional-write throughput is measured with bare concurrent
``UpdateItem``s at the poller's write concurrency: the write-bound reference (the machine's load
drifts; the two bracket it).
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dlrhub_local.simulators import Infin8linxSimulator
from dlrhub_measure import aws
from dlrhub_measure.aws import create_table, fresh_keys, put_secret, tree_template
from dlrhub_measure.engines import Engines
from dlrhub_measure.functions import function_setting, load_function, memory_mb, register_all
from dlrhub_measure.runner import Channel, Runner, Tree

CASES = ("nothing-new", "all-final")
FIRST_ID = 3_700_000_000
SPID, PASSWORD = "bench-spid", "bench-password"
STATE_PATH = "/sms/state"


@dataclass(frozen=True)
class Settings:
    messages: int
    latency: float
    concurrency: int
    write_concurrency: int
    throughput_writes: int


def message_ids(count: int) -> list[str]:
    return [str(FIRST_ID + n) for n in range(count)]


def measure(tree: Tree, engines: Engines, settings: Settings, python: str | None = None) -> dict[str, Any]:
    account = f"bench{uuid.uuid4().hex[:6]}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    ids = message_ids(settings.messages)
    config = {"dynamodb": engines.dynamodb.endpoint, "moto": engines.moto.endpoint, "prefix": prefix}
    config |= {"account": account, **settings.__dict__}
    result: dict[str, Any] = {"settings": settings.__dict__}
    with Infin8linxSimulator({SPID: PASSWORD}) as simulator:
        put_secret(engines.moto.endpoint, f"{prefix}/infin8linx/{account}", simulator.account_secret(SPID))
        for message_id in ids:
            simulator.add(message_id, 0)
        simulator.latency = settings.latency
        with Runner(tree, "dlrhub_measure.bench.poller", config, python=python) as runner:
            result["seeded"] = runner.receive(timeout=1800)
            for case in CASES:
                if case == "all-final":
                    for n, message_id in enumerate(ids):
                        simulator.add(message_id, 1 if n % 10 < 7 else 2)
                simulator.reset_counts()
                runner.command(case)
                outcome = runner.receive(timeout=1800)
                outcome["requests"] = simulator.requests_to(STATE_PATH)
                result[case] = outcome
    return result


# -- in the runner -----------------------------------------------------------------------------------


def seed(store: Any, ids: list[str], account: str, workers: int = 8) -> float:
    now = datetime.now(UTC)
    entries = [("infin8linx", account, message_id, now - timedelta(minutes=5)) for message_id in ids]
    started = time.perf_counter()
    register_all(store, entries, workers, registered=now)
    return time.perf_counter() - started


def write_throughput(client: Any, keys: list[dict[str, Any]], table: str, concurrency: int) -> dict[str, float]:
    """Conditional ``UpdateItem``s per second: ``concurrency`` threads, fresh keys, one SET each."""
    lock = threading.Lock()
    next_key = iter(keys)

    def worker() -> None:
        while True:
            with lock:
                key = next(next_key, None)
            if key is None:
                return
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET #v = :v",
                ConditionExpression="attribute_not_exists(#v)",
                ExpressionAttributeNames={"#v": "bench_value"},
                ExpressionAttributeValues={":v": {"S": "x"}},
            )

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    elapsed = time.perf_counter() - started
    return {"writes": len(keys), "seconds": elapsed, "per_second": len(keys) / elapsed}


def run(tree: Path, config: dict[str, Any], channel: Channel) -> None:
    from dlrhub.table.messages import MessageStore
    from dlrhub_local.gateway import LambdaContext

    client = aws.client("dynamodb", config["dynamodb"], max_pool_connections=4 * config["write_concurrency"])
    table = create_table(tree, client, "bench-poll")
    seconds = seed(MessageStore(table, client=client), message_ids(config["messages"]), config["account"])
    channel.send(phase="seeded", seed_seconds=seconds)

    def throughput() -> dict[str, float]:
        keys = fresh_keys(tree, table, config["throughput_writes"], "BENCHW")
        return write_throughput(client, keys, table, config["write_concurrency"])

    accounts = f"infin8linx/{config['account']}"
    concurrency = str(config["concurrency"])
    handler = load_function(tree, "PollerFunction", table, config, POLL_ACCOUNTS=accounts, POLL_CONCURRENCY=concurrency)
    # One account's run, as the scheduled run's fan-out starts it.
    event = {**aws.event(tree, "schedule_poller.json"), "poll_account": accounts}
    template = tree_template(tree)
    timeout_ms = int(function_setting(template, "PollerFunction", "Timeout", 300)) * 1000
    memory = memory_mb(template, "PollerFunction")
    for case in CASES:
        channel.wait_for(case)
        # The write-bound reference is taken just before and just after the case it is for.
        before = throughput() if case == "all-final" else None
        context = LambdaContext("PollerFunction", str(uuid.uuid4()), memory, timeout_ms, started=time.monotonic())
        started = time.perf_counter()
        reply = handler(event, context)
        elapsed = time.perf_counter() - started
        after = throughput() if case == "all-final" else None
        channel.send(case=case, elapsed=elapsed, reply=reply, throughput=[before, after] if before else [])
