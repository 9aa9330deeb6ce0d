"""The local stack (``python -m dlrhub_local``) as a subprocess, for the e2e tests and benchmarks."""

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

import requests

from dlrhub_local.processes import free_port
from tests.support import ROOT, missing


@dataclass
class StackProcess:
    """The running stack; its output lines are drained into ``lines`` and kept in ``seen``."""

    process: subprocess.Popen[str]
    config: Path
    lines: queue.Queue[str]
    seen: list[str] = field(default_factory=list)
    url: str = ""
    #: The table's engine ("DynamoDB Local", or "moto server" where DynamoDB Local cannot run), its endpoint.
    engine: str = ""
    dynamodb: str = ""
    table: str = ""
    #: moto server's endpoint (Secrets Manager, EventBridge).
    moto: str = ""
    #: provider -> port of its simulator, from the banner.
    simulators: dict[str, int] = field(default_factory=dict)

    def _next(self, timeout: float) -> str | None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            if self.process.poll() is not None and self.lines.empty():
                raise AssertionError(f"the stack exited ({self.process.returncode}):\n" + "".join(self.seen)) from None
            return None
        self.seen.append(line)
        return line

    def wait_for_lines(self, patterns: list[str], timeout: float = 30.0) -> dict[str, str]:
        """The first NEW line matching each pattern, in any order; other lines are passed over."""
        found: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(found) < len(patterns):
            line = self._next(0.2)
            for pattern in patterns:
                if line is not None and pattern not in found and re.search(pattern, line):
                    found[pattern] = line
                    break
        missing = [pattern for pattern in patterns if pattern not in found]
        if missing:
            raise AssertionError(f"no line matching {missing!r} within {timeout} s:\n" + "".join(self.seen[-40:]))
        return found

    def wait_for_line(self, pattern: str, timeout: float = 30.0) -> str:
        return self.wait_for_lines([pattern], timeout)[pattern]

    def read_for(self, seconds: float) -> None:
        """Collect whatever the stack prints for ``seconds`` into ``seen``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._next(0.2)

    def account(self, provider: str, account: str = "demo") -> dict[str, Any]:
        return json.loads(self.config.read_text())["accounts"][f"{provider}/{account}"]

    def webhook_url(self, provider: str, account: str = "demo") -> str:
        return f"{self.url}/webhooks/{provider}/{account}/{self.account(provider, account)['webhook_secret']}"

    def message(self, provider: str, message_id: str, account: str = "demo") -> requests.Response:
        """The customer API's view of one message (IAM-authorised when deployed, open locally)."""
        return requests.get(f"{self.url}/messages/{provider}/{account}/{message_id}", timeout=10)

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


def ignore_sigint() -> None:
    """As a non-interactive shell starts a background job (``make run &`` in a script): SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def local_stack(
    config: Path, *args: str, port: int | None = None, timeout: float = 60.0, background: bool = False
) -> Iterator[StackProcess]:
    """Start the local stack (its own process group, extra CLI ``args``) and stop it on exit.

    ``config`` is created if missing. Returns once the stack printed ``ready``. ``background``: started
    with SIGINT ignored, as a shell script's background job is.
    """
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dlrhub_local", "--port", str(port), "--config", str(config), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        preexec_fn=ignore_sigint if background else None,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    stack = StackProcess(process, config, lines)
    try:
        stack.wait_for_line("^ready", timeout)
        for line in stack.seen:
            if " local stack on " in line:
                stack.url = line.split(" on ", 1)[1].strip()
            elif found := re.search(r"DynamoDB \(([^,)]+)[^)]*\): (http://\S+)\s+table (\S+)", line):
                stack.engine, stack.dynamodb, stack.table = found.groups()
            elif found := re.search(r"\((?:moto server|given endpoint)\): (http://\S+)$", line):
                stack.moto = found.group(1)
            elif found := re.match(r"\s+(\w+)\s+http://127\.0\.0\.1:(\d+)$", line):
                stack.simulators[found.group(1)] = int(found.group(2))
        yield stack
    finally:
        stack.stop()


def require_dynamodb_local(stack: StackProcess) -> None:
    """The test means DynamoDB Local (concurrent writes, the stream), not the moto fallback."""
    if stack.engine != "DynamoDB Local":
        missing(f"the table runs on {stack.engine or 'an unknown engine'}, not DynamoDB Local")
