"""The README's run command: the local stack over real HTTP, as a newcomer uses it."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

from dlrhub_local.processes import free_port
from tests.support import ROOT

pytestmark = pytest.mark.slow


@dataclass
class RunningStack:
    process: subprocess.Popen
    url: str
    dynamodb: str
    table: str
    secret: str
    lines: queue.Queue[str]

    def wait_for_line(self, pattern: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    config = Path(tmp_path_factory.mktemp("stack")) / "local.json"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dlrhub_local", "--port", str(port), "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    running = RunningStack(process, f"http://127.0.0.1:{port}", "", "", "", lines)
    try:
        db_line = running.wait_for_line(r"DynamoDB \(moto server\)", timeout=60)
        running.dynamodb, running.table = re.search(r"(http://\S+)\s+table (\S+)", db_line).groups()
        running.wait_for_line("^ready", timeout=30)
        running.secret = json.loads(config.read_text())["accounts"]["infin8linx/demo"]["webhook_secret"]
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def item(stack: RunningStack, message_id: str) -> dict | None:
    client = boto3.client("dynamodb", endpoint_url=stack.dynamodb)
    key = {"pk": {"S": f"MSG#infin8linx#demo#{message_id}"}, "sk": {"S": "MSG"}}
    return client.get_item(TableName=stack.table, Key=key).get("Item")


def test_callback_is_stored_and_shown(stack: RunningStack) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/{stack.secret}"
    reply = requests.get(url, params={"msgid": "36160109669", "das": "628131565746", "state": "1"}, timeout=10)
    assert (reply.status_code, reply.text) == (200, "OK")
    line = stack.wait_for_line(r"stored .*36160109669")
    assert "DELIVERED" in line
    assert "628131565746" not in line  # the number is masked on screen
    assert item(stack, "36160109669")["status"]["S"] == "DELIVERED"


def test_wrong_secret_is_403_and_stores_nothing(stack: RunningStack) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/wrong-secret"
    reply = requests.get(url, params={"msgid": "555", "state": "1"}, timeout=10)
    assert reply.status_code == 403
    assert item(stack, "555") is None


def test_malformed_callback_is_400_with_the_reason(stack: RunningStack) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/{stack.secret}"
    reply = requests.get(url, params={"msgid": "556", "state": "9"}, timeout=10)
    assert reply.status_code == 400
    assert "state must be 0, 1 or 2" in reply.text
    assert item(stack, "556") is None


def test_out_of_order_and_duplicate_callbacks_over_http(stack: RunningStack) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/{stack.secret}"
    for state in ("2", "0", "2", "1"):
        assert requests.get(url, params={"msgid": "557", "state": state}, timeout=10).status_code == 200
    assert item(stack, "557")["status"]["S"] == "FAILED"


def test_unknown_route_is_404(stack: RunningStack) -> None:
    assert requests.get(f"{stack.url}/nothing/here", timeout=10).status_code == 404


def test_ctrl_c_stops_everything(stack: RunningStack) -> None:
    moto_port = int(stack.dynamodb.rsplit(":", 1)[1])
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(20) == 0
    for port in (moto_port, int(stack.url.rsplit(":", 1)[1])):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
