"""The local stack as the suites drive it: started with ``--verbose`` (the functions' INFO logs
in its output, scanned after each suite), no demo traffic, no scheduled runs unless asked."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dlrhub_local import config as local_config
from proof import memory
from proof.figures import Figures
from proof.leaks import LeakScanner, account_secrets
from proof.table import client
from tests.stack_process import StackProcess, local_stack

QUIET = ("--no-demo", "--verbose", "--poll-every", "0", "--report-every", "0")


@dataclass
class Target:
    stack: StackProcess
    accounts: dict[str, dict[str, Any]]
    #: The table's engine itself (not a proxy in front of it): what the suites read the truth from.
    engine: str
    #: Processes whose memory is sampled besides the stack's own tree (engines started apart).
    other_pids: list[int] = field(default_factory=list)
    #: Internal endpoints no reply may name (the engines', the proxies').
    internal: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        endpoints = [self.stack.dynamodb, self.stack.moto, self.engine, *self.internal]
        hosts = sorted({urlsplit(url).netloc for url in endpoints if url})
        self.scanner = LeakScanner(account_secrets(self.accounts), hosts)
        self.dynamodb = client(self.engine)

    @property
    def port(self) -> int:
        return int(urlsplit(self.stack.url).port or 0)

    @property
    def host(self) -> str:
        return urlsplit(self.stack.url).netloc

    @property
    def table(self) -> str:
        return self.stack.table

    def drain(self) -> int:
        """Move what the stack printed so far into ``stack.seen``; the count of lines seen."""
        for _ in range(10_000_000):
            try:
                self.stack.seen.append(self.stack.lines.get_nowait())
            except queue.Empty:
                break
        return len(self.stack.seen)

    def memory(self) -> dict[str, float]:
        return memory.sample([self.stack.process.pid, *self.other_pids])

    def begin(self, figures: Figures) -> int:
        """Memory at the start; the log mark from which the suite's lines are scanned."""
        figures.memory_start = self.memory()
        return self.drain()

    def end(self, figures: Figures, mark: int, *, tracebacks_allowed: bool = False) -> None:
        """Memory at the end, and the stack's output since ``mark`` scanned: no secret or phone number
        sent, and (unless the suite injects faults) no traceback."""
        figures.memory_end = self.memory()
        self.drain()
        findings, tracebacks = self.scanner.in_logs(self.stack.seen[mark:])
        for finding in findings[:20]:
            figures.fail(finding)
        if len(findings) > 20:
            figures.fail(f"… and {len(findings) - 20} more findings in the log")
        figures.notes.append(f"log lines scanned: {len(self.stack.seen) - mark}, tracebacks: {tracebacks}")
        if tracebacks and not tracebacks_allowed:
            first = next(line for line in self.stack.seen[mark:] if "Traceback" in line)
            figures.fail(f"{tracebacks} tracebacks in the stack's output, the first: {first[:600]}")


def write_config(directory: Path) -> Path:
    """A config with a demo account per simulated provider and fresh random secrets."""
    path = directory / "proof-local.json"
    local_config.save(local_config.generate(), path)
    return path


@contextmanager
def running(directory: Path, *args: str, timeout: float = 90.0) -> Iterator[Target]:
    """The local stack on DynamoDB Local (quiet: no demo, no schedules, unless ``args`` say), verbose."""
    config = write_config(directory)
    with local_stack(config, *QUIET, *args, timeout=timeout) as stack:
        if stack.engine != "DynamoDB Local":
            raise RuntimeError(f"the table runs on {stack.engine or 'an unknown engine'}, not DynamoDB Local")
        accounts = json.loads(config.read_text())["accounts"]
        yield Target(stack, accounts, stack.dynamodb)
