"""Helpers for the customer API tests: what each events/api_*.json must do, and the local stack as a process.

Plain functions and data, no fixtures (the bench script uses the stack starter too).
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dlrhub_local.processes import free_port
from tests.support import ROOT

#: Requests the schemathesis run sent (tests/e2e/test_api_schema.py), for the terminal summary.
SCHEMA_REQUESTS = pytest.StashKey[int]()


@dataclass(frozen=True)
class ApiExpectation:
    """What one sample event must do when sent, after its ``seed`` events were sent in order."""

    status_code: int
    seed: tuple[str, ...] = ()
    #: "provider/account/message_id" -> status the table must hold afterwards
    stored: dict[str, str] = field(default_factory=dict)
    #: "provider/account/message_id" that must NOT be in the table afterwards
    absent: tuple[str, ...] = ()
    #: top-level fields the JSON reply must have, with these values
    reply: dict[str, Any] = field(default_factory=dict)
    #: indexes named in the reply's ``errors``, in order
    rejected_indexes: tuple[int, ...] = ()
    #: message ids a listing reply lists, in order (None: not a listing)
    listed: tuple[str, ...] | None = None
    #: whether a listing reply carries a next_cursor
    more: bool = False


BATCH = "api_register_batch.json"
BAD_ITEM = "api_register_bad_item.json"

API_EVENTS: dict[str, ApiExpectation] = {
    BATCH: ApiExpectation(
        200,
        stored={
            "infin8linx/demo/36160109700": "PENDING",
            "infin8linx/demo/36160109701": "PENDING",
            "webcom/demo/82216": "PENDING",
        },
        reply={"registered": 3, "merged": 0, "already_registered": 0, "rejected": 0, "errors": []},
    ),
    BAD_ITEM: ApiExpectation(
        422,
        stored={"infin8linx/demo/36160109710": "PENDING", "innopaas/demo/627239445736452096": "PENDING"},
        absent=("infin8linx/demo/36160109711",),  # submitted_at without a zone
        reply={"registered": 2, "merged": 0, "already_registered": 0, "rejected": 1},
        rejected_indexes=(1,),
    ),
    "api_get_message.json": ApiExpectation(
        200,
        seed=(BATCH,),
        reply={
            "provider": "infin8linx",
            "account": "demo",
            "message_id": "36160109700",
            "status": "PENDING",
            "final": False,
            "destination": "628131565746",
            "submitted_at": "2026-11-25T10:00:00.000Z",
            "parts": 1,
            "customer_ref": "order-1001",
            "history": [],
        },
    ),
    "api_list_by_ref.json": ApiExpectation(200, seed=(BATCH,), listed=("36160109700", "36160109701"), more=True),
    "api_list_by_account_status.json": ApiExpectation(
        200, seed=(BATCH, BAD_ITEM), listed=("36160109700", "36160109701", "36160109710")
    ),
}


def split_key(key: str) -> tuple[str, str, str]:
    provider, account, message_id = key.split("/", 2)
    return provider, account, message_id


def registration_item(message_id: str, minute: int = 0, **changes: Any) -> dict[str, Any]:
    """One valid ``POST /messages`` item (infin8linx/demo unless changed)."""
    item: dict[str, Any] = {
        "provider": "infin8linx",
        "account": "demo",
        "message_id": message_id,
        "destination": "628131565746",
        "submitted_at": f"2026-11-25T10:{minute % 60:02d}:00Z",
    }
    item.update(changes)
    return item


# --- the local stack as a subprocess ------------------------------------------------------


@dataclass
class StackProcess:
    """``python -m dlrhub_local`` running; its output lines are drained into ``lines``."""

    process: subprocess.Popen[str]
    config: Path
    lines: queue.Queue[str]
    url: str = ""
    dynamodb: str = ""
    table: str = ""

    def wait_for_line(self, pattern: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None and self.lines.empty():
                raise AssertionError(f"the stack exited ({self.process.returncode}) before printing {pattern!r}")
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s")

    def account(self, provider: str, account: str = "demo") -> dict[str, Any]:
        return json.loads(self.config.read_text())["accounts"][f"{provider}/{account}"]

    def webhook_url(self, provider: str, account: str = "demo") -> str:
        return f"{self.url}/webhooks/{provider}/{account}/{self.account(provider, account)['webhook_secret']}"

    def stop(self, timeout: float = 15.0) -> int:
        """Ctrl-C, as a person stops it; killed if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode


@contextmanager
def local_stack(config: Path, port: int | None = None, timeout: float = 60.0) -> Iterator[StackProcess]:
    """Start the local stack (its own process group) and stop it on exit; ``config`` is created if missing."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dlrhub_local", "--port", str(port), "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    stack = StackProcess(process, config, lines)
    try:
        stack.url = stack.wait_for_line(r"^DLR Hub local stack on http://", timeout).split(" on ", 1)[1].strip()
        found = re.search(r"(http://\S+)\s+table (\S+)", stack.wait_for_line(r"DynamoDB \(moto server\)", timeout))
        assert found is not None
        stack.dynamodb, stack.table = found.groups()
        stack.wait_for_line("^ready", timeout)
        yield stack
    finally:
        stack.stop()
