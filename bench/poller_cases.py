"""The poller function over N pending Infin8linx messages (runs in a tree's runner).

Seeds N registered messages through ``MessageStore.register``, then invokes the template's
``PollerFunction`` handler once per case, when the parent says so (it sets the simulator's
answers in between): ``nothing-new`` (every message still pending at the provider) and
``all-final``. Around ``all-final``, just before and just after it, DynamoDB Local's
conditional-write throughput is measured with bare concurrent ``UpdateItem``s at the poller's
write concurrency: the write-bound reference (the machine's load drifts; the two bracket it).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.lambda_env import DUMMY_CREDENTIALS, REGION, function_environment, function_setting, tree_template
from bench.runner import Channel
from bench.write_units import create_table

CASES = ("nothing-new", "all-final")
FIRST_ID = 3_700_000_000
NUMBER = "628131565746"


def account_event(config: dict[str, Any]) -> dict[str, str]:
    return {"poll_account": f"infin8linx/{config['account']}"}


def message_ids(count: int) -> list[str]:
    return [str(FIRST_ID + n) for n in range(count)]


def seed(store: Any, ids: list[str], account: str, workers: int = 8) -> float:
    from dlrhub.domain.registration import Registration

    now = datetime.now(UTC)

    def register(message_id: str) -> None:
        registration = Registration(
            provider="infin8linx",
            account=account,
            message_id=message_id,
            destination=NUMBER,
            submitted_at=now - timedelta(minutes=5),
        )
        store.register(registration, now)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(register, ids))
    return time.perf_counter() - started


def write_throughput(client: Any, tree: Path, table: str, writes: int, concurrency: int) -> dict[str, float]:
    """Conditional ``UpdateItem``s per second: ``concurrency`` threads, fresh keys, one SET each."""
    definition = tree_template(tree).table_definition("MessagesTable", table)
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    run = uuid.uuid4().hex[:8]
    keys = [
        {k["AttributeName"]: {types[k["AttributeName"]]: f"BENCHW#{run}#{n}"} for k in definition["KeySchema"]}
        for n in range(writes)
    ]
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
    return {"writes": writes, "seconds": elapsed, "per_second": writes / elapsed}


def run(tree: Path, config: dict[str, Any], channel: Channel) -> None:
    from dlrhub.table.messages import MessageStore
    from dlrhub_local.gateway import LambdaContext, load_handler

    client = boto3.client(
        "dynamodb",
        endpoint_url=config["dynamodb"],
        region_name=REGION,
        config=Config(max_pool_connections=4 * config["write_concurrency"]),
    )
    os.environ.update(DUMMY_CREDENTIALS)
    table = create_table(tree, client, "bench-poll")
    ids = message_ids(config["messages"])
    seconds = seed(MessageStore(table, client=client), ids, config["account"])
    channel.send(phase="seeded", seed_seconds=seconds)

    def throughput() -> dict[str, float]:
        return write_throughput(client, tree, table, config["throughput_writes"], config["write_concurrency"])

    template = tree_template(tree)
    function = template.functions()["PollerFunction"]
    os.environ.update(function_environment(template, function, table))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": config["dynamodb"],
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": config["moto"],
            "SECRETS_PREFIX": config["prefix"],
            "POLL_ACCOUNTS": f"infin8linx/{config['account']}",
            "POLL_CONCURRENCY": str(config["concurrency"]),
        }
    )
    handler = load_handler(function)
    # One account's run, as the scheduled run starts it (a tree from before the fan-out ignores the
    # key and polls POLL_ACCOUNTS, that one account, as well).
    event = {**json.loads((tree / "events" / "schedule_poller.json").read_text()), **account_event(config)}
    timeout_ms = int(function_setting(template, function.logical_id, "Timeout", 300)) * 1000
    memory = int(function_setting(template, function.logical_id, "MemorySize", 128))
    for case in CASES:
        channel.wait_for(case)
        # The write-bound reference is taken just before and just after the case it is for.
        before = throughput() if case == "all-final" else None
        request = str(uuid.uuid4())
        context = LambdaContext("PollerFunction", request, memory, timeout_ms, started=time.monotonic())
        started = time.perf_counter()
        reply = handler(event, context)
        elapsed = time.perf_counter() - started
        after = throughput() if case == "all-final" else None
        channel.send(case=case, elapsed=elapsed, reply=reply, throughput=[before, after] if before else [])
