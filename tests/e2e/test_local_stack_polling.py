"""The local stack's poller and demo traffic: reports stored by callback and by polling, per provider."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from dlrhub_local.demo import MESSAGES, UNREGISTERED_HUAWEI
from dlrhub_local.processes import free_port
from tests.support import ROOT

pytestmark = pytest.mark.slow

POLLED = ("infin8linx", "huawei", "webcom", "innopaas")
STORED = re.compile(r"stored\s+(\w+)/demo (\S+) -> (\w+) \(raw '[^']*', (webhook|poll|rule)\)")


@dataclass
class Stack:
    process: subprocess.Popen
    lines: queue.Queue[str]
    seen: list[str] = field(default_factory=list)
    simulators: dict[str, int] = field(default_factory=dict)
    url: str = ""

    def read_until(self, done: re.Pattern[str] | None, timeout: float) -> None:
        """Collect lines until one matches ``done`` (or, without a pattern, until ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise AssertionError("the stack exited:\n" + "".join(self.seen)) from None
                continue
            self.seen.append(line)
            if done is not None and done.search(line):
                return
        if done is not None:
            raise AssertionError(f"no line matching {done.pattern!r} within {timeout} s:\n" + "".join(self.seen))

    def stored(self) -> set[tuple[str, str, str, str]]:
        return {found.groups() for line in self.seen if (found := STORED.search(line))}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = Path(tmp_path_factory.mktemp("polling")) / "local.json"
    command = [sys.executable, "-m", "dlrhub_local", "--port", str(free_port()), "--config", str(config)]
    process = subprocess.Popen(
        [*command, "--poll-every", "1", "--report-every", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    running = Stack(process, lines)
    try:
        running.read_until(re.compile("^ready"), timeout=60)
        running.url = next(line.split(" on ", 1)[1].strip() for line in running.seen if " local stack on " in line)
        for line in running.seen:
            if found := re.match(r"\s+(\w+)\s+http://127\.0\.0\.1:(\d+)$", line):
                running.simulators[found.group(1)] = int(found.group(2))
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_the_banner_names_a_simulator_per_polled_provider(stack: Stack) -> None:
    assert set(stack.simulators) == set(POLLED)
    assert any("polled every 1 s" in line for line in stack.seen)


def test_demo_reports_are_stored_by_polling_for_every_provider_and_by_callbacks(stack: Stack) -> None:
    expected = {m.message_id: ("poll", m.provider) for m in MESSAGES if not m.push}
    expected |= {m.message_id: ("webhook", m.provider) for m in MESSAGES if m.push}
    expected[UNREGISTERED_HUAWEI.message_id] = ("poll", "huawei")  # never registered: found by the window poll
    deadline = time.monotonic() + 45
    while not set(expected) <= {message_id for _, message_id, _, _ in stack.stored()}:
        if time.monotonic() > deadline:
            raise AssertionError("missing stored lines:\n" + "".join(stack.seen))
        stack.read_until(None, timeout=1)
    found = {message_id: (source, provider) for provider, message_id, _, source in stack.stored()}
    assert {mid: found[mid] for mid in expected} == expected
    assert {provider for source, provider in expected.values() if source == "poll"} == set(POLLED)
    statuses = {message_id: status for _, message_id, status, _ in stack.stored()}
    assert statuses["demo-hw-0000000002"] == "REJECTED"
    assert statuses["90000000004"] == "FAILED"
    assert any(re.search(r"registered\s+huawei/demo demo-hw-0000000001", line) for line in stack.seen)


def test_the_monitor_report_reaches_the_simulator_and_stats_count_the_demo(stack: Stack) -> None:
    sent = re.compile(r"monitor\s+infin8linx/demo .*: total \d+, success \d+ \(code 0\)")
    if not any(sent.search(line) for line in stack.seen):  # earlier tests may have read it already
        stack.read_until(sent, timeout=30)
    now = datetime.now(UTC)
    query = {
        "provider": "infin8linx",
        "account": "demo",
        "from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window": "3600",
    }
    expected = sum(1 for m in MESSAGES if m.provider == "infin8linx")
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


def test_ctrl_c_stops_the_simulators_too(stack: Stack) -> None:
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(20) == 0
    for port in stack.simulators.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"simulator port {port} still open"
