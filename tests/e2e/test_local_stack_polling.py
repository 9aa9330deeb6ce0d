"""The local stack's poller and demo traffic: reports stored by callback and by polling, per provider."""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from dlrhub.providers.contract import POLLING
from dlrhub.providers.registry import PROVIDERS
from dlrhub_local.simulators import SIMULATORS, DemoMessage
from tests.stack_process import StackProcess, local_stack

pytestmark = pytest.mark.slow

POLLED = {provider.name for provider in PROVIDERS if any(provider.spec(cap) for cap in POLLING)}
#: (provider, message) of every demo message.
MESSAGES = [(provider, m) for provider, simulator in SIMULATORS.items() for m in simulator.demo_messages]
STORED = re.compile(r"stored\s+(\w+)/demo (\S+) -> (\w+) \(raw '[^']*', (webhook|poll|rule|event)\)")
#: Providers whose reports arrive as EventBridge events (their simulators put them on the local bus).
EVENT_INPUT = {provider.name for provider in PROVIDERS if provider.events is not None}


def source_of(provider: str, message: DemoMessage) -> str:
    if provider in EVENT_INPUT:
        return "event"
    return "webhook" if message.push else "poll"


def stored(stack: StackProcess) -> set[tuple[str, str, str, str]]:
    return {found.groups() for line in stack.seen if (found := STORED.search(line))}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    config = Path(tmp_path_factory.mktemp("polling")) / "local.json"
    with local_stack(config, "--poll-every", "1", "--report-every", "1") as running:
        yield running


def test_the_banner_names_a_simulator_per_polled_provider(stack: StackProcess) -> None:
    assert set(stack.simulators) == POLLED
    assert any("polled every 1 s" in line for line in stack.seen)


def test_demo_reports_are_stored_by_polling_for_every_provider_and_by_callbacks(stack: StackProcess) -> None:
    # Messages never registered are found by polling all the same (a window poll).
    expected = {m.message_id: (source_of(provider, m), provider) for provider, m in MESSAGES}
    deadline = time.monotonic() + 45
    while not set(expected) <= {message_id for _, message_id, _, _ in stored(stack)}:
        if time.monotonic() > deadline:
            raise AssertionError("missing stored lines:\n" + "".join(stack.seen))
        stack.read_for(1)
    found = {message_id: (source, provider) for provider, message_id, _, source in stored(stack)}
    assert {mid: found[mid] for mid in expected} == expected
    assert {provider for source, provider in expected.values() if source == "poll"} == POLLED
    statuses = {message_id: status for _, message_id, status, _ in stored(stack)}
    assert statuses["demo-hw-0000000002"] == "REJECTED"
    assert statuses["90000000004"] == "FAILED"
    assert any(re.search(r"registered\s+huawei/demo demo-hw-0000000001", line) for line in stack.seen)


def test_the_monitor_report_reaches_the_simulator_and_stats_count_the_demo(stack: StackProcess) -> None:
    sent = re.compile(r"monitor\s+infin8linx/demo .*: total \d+, success \d+ \(code 0\)")
    if not any(sent.search(line) for line in stack.seen):  # earlier tests may have read it already
        stack.wait_for_line(sent.pattern, timeout=30)
    now = datetime.now(UTC)
    query = {
        "provider": "infin8linx",
        "account": "demo",
        "from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window": "3600",
    }
    expected = sum(1 for provider, m in MESSAGES if provider == "infin8linx" and m.registered)
    deadline = time.monotonic() + 30
    while True:  # counters follow the stream: wait (bounded) until every demo message is final
        windows = requests.get(f"{stack.url}/stats", params=query, timeout=10).json()["windows"]
        totals = {key: sum(w[key] for w in windows) for key in ("submitted", "delivered", "failed", "pending")}
        if (totals["submitted"] == expected and totals["pending"] == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert totals["submitted"] == expected
    assert totals["delivered"] + totals["failed"] == expected
    assert totals["failed"] >= 1


def test_ctrl_c_stops_the_simulators_too(stack: StackProcess) -> None:
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(20) == 0
    for port in stack.simulators.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"simulator port {port} still open"
