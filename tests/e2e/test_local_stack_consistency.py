"""The local stack keeps every report it acknowledged, under concurrency, on DynamoDB Local.

Ordinary traffic over real HTTP: the same callback three times at once, reports out of order, a
registration batch racing its own callbacks, a monitor window, and the stream function's counters
against a recount of the table.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from dlrhub.domain.stats import bucket_of, parse_time
from dlrhub.domain.status import Status
from dlrhub.table.keys import MESSAGE_SK, counter_bucket, counter_partition, from_item, read_history_entry
from dlrhub_local import config as local_config
from dlrhub_local.simulators import Infin8linxSimulator
from dlrhub_local.simulators.infin8linx import MonitorReport
from tests.stack_process import StackProcess, local_stack, require_dynamodb_local

pytestmark = pytest.mark.slow

QUIET = ("--no-demo", "--poll-every", "0", "--report-every", "0")
WINDOW = 300  # --monitor-window 5
STORED = re.compile(r"stored\s+infin8linx/demo (7100\d+) ")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    config = tmp_path_factory.mktemp("consistency") / "local.json"
    with local_stack(config, *QUIET) as running:
        require_dynamodb_local(running)
        yield running


def table(stack: StackProcess) -> Any:
    return boto3.client("dynamodb", endpoint_url=stack.dynamodb, region_name="us-east-1")


def callback(stack: StackProcess, message_id: str, state: int, session: requests.Session | None = None) -> None:
    """An Infin8linx delivery report; it must be acknowledged (200 OK)."""
    params = {"msgid": message_id, "das": "628131565746", "state": str(state)}
    reply = (session or requests).get(stack.webhook_url("infin8linx"), params=params, timeout=30)
    assert (reply.status_code, reply.text) == (200, "OK"), (message_id, state, reply.text)


def register(stack: StackProcess, ids: list[str], submitted_at: datetime, ref: str) -> dict[str, Any]:
    items = [
        {
            "provider": "infin8linx",
            "account": "demo",
            "message_id": message_id,
            "destination": "628131565746",
            "submitted_at": submitted_at.isoformat(),
            "customer_ref": ref,
        }
        for message_id in ids
    ]
    reply = requests.post(f"{stack.url}/messages", json={"messages": items}, timeout=120)
    assert reply.status_code == 200, reply.text
    return reply.json()


def items(stack: StackProcess, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The message items, read straight from the table (consistent reads)."""
    client, found = table(stack), {}
    for start in range(0, len(ids), 100):
        keys = [{"pk": {"S": f"MSG#infin8linx#demo#{mid}"}, "sk": {"S": "MSG"}} for mid in ids[start : start + 100]]
        request: dict[str, Any] = {stack.table: {"Keys": keys, "ConsistentRead": True}}
        for _ in range(20):  # unprocessed keys are asked again (bounded)
            reply = client.batch_get_item(RequestItems=request)
            for item in reply["Responses"].get(stack.table, []):
                found[identity(item)[2]] = item
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                break
    return found


def identity(item: dict[str, Any]) -> tuple[str, str, str]:
    """(provider, account, message_id) of a message item, read off its key."""
    _, provider, account, message_id = item["pk"]["S"].split("#", 3)
    return provider, account, message_id


def history(item: dict[str, Any]) -> list[tuple[str, str]]:
    entries = [read_history_entry(entry) for entry in from_item(item).get("history", [])]
    return [(entry["status"], entry["raw_status"]) for entry in entries]


def wait_for_stream(stack: StackProcess, marker: str) -> None:
    """Every record written before ``marker``'s callback has been read: the stream is read in order."""
    callback(stack, marker, 1)
    stack.wait_for_line(rf"stored\s+infin8linx/demo {marker} ", timeout=60)


def test_the_same_callback_three_times_at_once_is_one_transition(stack: StackProcess) -> None:
    ids = [f"7100{round_:06d}" for round_ in range(50)]
    with ThreadPoolExecutor(3) as pool:
        for message_id in ids:
            together = threading.Barrier(3)

            def send(message_id: str = message_id, together: threading.Barrier = together) -> None:
                together.wait(30)
                callback(stack, message_id, 1)

            for future in [pool.submit(send) for _ in range(3)]:
                future.result()
    found = items(stack, ids)
    assert {mid: (found[mid]["status"]["S"], history(found[mid])) for mid in ids} == {
        mid: ("DELIVERED", [("DELIVERED", "1")]) for mid in ids
    }
    wait_for_stream(stack, "7100999999")
    shown = Counter(found.group(1) for line in stack.seen if (found := STORED.search(line)))
    assert {mid: shown[mid] for mid in ids} == dict.fromkeys(ids, 1)  # the stream saw one change each


def test_states_0_2_1_in_order_end_failed_with_every_acknowledged_report(stack: StackProcess) -> None:
    ids = [f"7200{n:06d}" for n in range(20)]
    register(stack, ids, datetime.now(UTC), "order-021")  # the stream function counts these meanwhile

    def in_order(message_id: str) -> None:
        with requests.Session() as session:
            for state in (0, 2, 1):
                callback(stack, message_id, state, session)

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(in_order, ids))
    found = items(stack, ids)
    assert {mid: (found[mid]["status"]["S"], history(found[mid])) for mid in ids} == {
        mid: ("FAILED", [("PENDING", "0"), ("FAILED", "2")]) for mid in ids
    }


def test_a_registration_batch_of_500_racing_its_callbacks_loses_nothing(stack: StackProcess) -> None:
    ids = [f"7300{n:06d}" for n in range(500)]
    outcome = {mid: 2 if n % 3 == 0 else 1 for n, mid in enumerate(ids)}
    shuffled = random.Random(9).sample(ids, len(ids))
    start = threading.Barrier(2)
    replies: list[dict[str, Any]] = []

    def registration() -> None:
        start.wait(30)
        replies.append(register(stack, ids, datetime.now(UTC), "batch-500"))

    def callbacks() -> None:
        start.wait(30)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda mid: callback(stack, mid, outcome[mid]), shuffled))

    threads = [threading.Thread(target=registration), threading.Thread(target=callbacks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    [reply] = replies
    assert (reply["registered"] + reply["merged"], reply["rejected"]) == (500, 0)
    found = items(stack, ids)
    expected = {mid: ("DELIVERED" if outcome[mid] == 1 else "FAILED", True, "batch-500") for mid in ids}
    assert {
        mid: (item["status"]["S"], "registered_at" in item, item.get("customer_ref", {}).get("S"))
        for mid, item in found.items()
    } == expected


def counters_and_recount(stack: StackProcess) -> tuple[dict[tuple, Counter[str]], dict[tuple, Counter[str]]]:
    """The stream function's counters, and the same counted again from the message items (a Scan: test only)."""
    counted: dict[tuple, Counter[str]] = {}
    recount: dict[tuple, Counter[str]] = {}
    paginator = table(stack).get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table, ConsistentRead=True):
        for item in page["Items"]:
            pk, sk = item["pk"]["S"], item["sk"]["S"]
            if pk.startswith("STATS#"):  # one item per bucket and writer (stream shard): summed per bucket
                names = ("submitted", "delivered", "failed", "sent")
                values = {name: int(item[name]["N"]) for name in names if name in item}
                counted.setdefault((pk, counter_bucket(sk)), Counter()).update(values)
            elif sk == MESSAGE_SK and "registered_at" in item:
                bucket = bucket_of(parse_time(item["submitted_at"]["S"])).strftime("%Y-%m-%dT%H:%M:%SZ")
                provider, account, _ = identity(item)
                key = (counter_partition(provider, account), bucket)
                status = Status(item["status"]["S"])
                recount.setdefault(key, Counter())["submitted"] += 1
                if status.is_final:
                    recount[key]["delivered" if status.is_success else "failed"] += 1
                elif status.is_settled:
                    recount[key]["sent"] += 1
    counted = {key: Counter({k: v for k, v in counts.items() if v}) for key, counts in counted.items()}
    return counted, recount


def test_the_stream_function_counts_every_write(stack: StackProcess) -> None:
    """Registrations racing duplicate and out-of-order callbacks, spread over 5-minute buckets; then every
    counter of the table (these messages and the other tests') equals a recount of the message items."""
    ids = [f"7400{n:06d}" for n in range(120)]
    now = datetime.now(UTC)
    with ThreadPoolExecutor(8) as pool:
        registrations = [
            pool.submit(register, stack, ids[i : i + 40], now - timedelta(minutes=7 * i // 40), f"count-{i}")
            for i in range(0, len(ids), 40)
        ]
        reports = [(mid, state) for n, mid in enumerate(ids) if n % 5 for state in ((1, 1) if n % 2 else (0, 2, 1))]
        list(pool.map(lambda report: callback(stack, *report), reports))
        for future in registrations:
            future.result()
    deadline = time.monotonic() + 60
    counted, recount = counters_and_recount(stack)
    while counted != recount and time.monotonic() < deadline:  # the stream function follows the writes
        time.sleep(0.5)
        counted, recount = counters_and_recount(stack)
    assert counted == recount
    assert sum(c["submitted"] for c in recount.values()) >= len(ids)


# -- the monitor report ----------------------------------------------------------------------


def monitor_lag(now: float) -> int:
    """The lag (whole minutes, 0-4) that puts ``now - lag`` 2-3 minutes into a 5-minute window: the window
    the reporter reports stays the same for two minutes at least."""
    return next(lag for lag in range(5) if 120 <= (now - 60 * lag) % WINDOW < 180)


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[tuple[StackProcess, Infin8linxSimulator, int]]:
    """A stack whose infin8linx/demo account points at this test's own simulator (a URL in the config
    file wins over the stack's simulator), the simulator failing every monitor report until told."""
    config = local_config.generate()
    account = config["accounts"]["infin8linx/demo"]
    simulator = Infin8linxSimulator({account["spid"]: account["password"]}).start()
    account["base_url"] = simulator.url
    path = tmp_path / "local.json"
    path.write_text(json.dumps(config))
    simulator.fail_next(100_000, 503)
    lag = monitor_lag(time.time())
    args = ("--monitor-window", "5", "--monitor-lag", str(lag), "--poll-accounts", "infin8linx/demo")
    try:
        with local_stack(path, "--no-demo", "--poll-every", "0", "--report-every", "1", *args) as running:
            require_dynamodb_local(running)
            yield running, simulator, lag
    finally:
        simulator.stop()


def test_a_monitor_window_is_reported_once_with_its_totals(
    monitor: tuple[StackProcess, Infin8linxSimulator, int],
) -> None:
    stack, simulator, lag = monitor
    end = int(time.time() - 60 * lag) // WINDOW * WINDOW
    start = end - WINDOW
    ids = [f"7500{n:06d}" for n in range(10)]
    register(stack, ids, datetime.fromtimestamp(start + 60, UTC), "monitor-window")
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda pair: callback(stack, pair[1], 1 if pair[0] < 7 else 2), enumerate(ids[:9])))
    # ids[9] stays pending
    query = {
        "provider": "infin8linx",
        "account": "demo",
        "from": datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window": str(WINDOW),
    }
    deadline = time.monotonic() + 60
    while True:  # the counters follow the stream (bounded wait)
        [window] = requests.get(f"{stack.url}/stats", params=query, timeout=10).json()["windows"]
        totals = (window["submitted"], window["delivered"], window["failed"], window["pending"])
        if totals == (10, 7, 2, 1) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert totals == (10, 7, 2, 1)
    assert simulator.requests_to("/sms/monitor") >= 1  # tried already, refused
    assert simulator.monitor_reports == []
    simulator.clear_faults()
    line = stack.wait_for_line(r"monitor\s+infin8linx/demo \d\d:\d\d-\d\d:\d\d UTC: total \d+", timeout=30)
    assert "total 10, success 7 (code 0)" in line
    stack.read_for(3)  # three more reporter runs (one a second): none may send the window again
    spid = stack.account("infin8linx")["spid"]
    assert simulator.monitor_reports == [MonitorReport(spid, start, end, 10, 7)]
    assert sum("total 10, success 7" in seen for seen in stack.seen) == 1
