"""The local stack as the suites drive it (:func:`dlrhub_measure.engines.local_stack`: the functions'
INFO logs in its output, scanned after each suite), and what each suite checks of it."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dlrhub_measure.engines import local_stack
from dlrhub_measure.proof import memory
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.leaks import LeakScanner, account_secrets
from dlrhub_measure.proof.stored import client
from tests.stack_process import StackProcess


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

    def secret(self, provider: str, account: str = "demo") -> str:
        """The webhook secret of an account."""
        return str(self.accounts[f"{provider}/{account}"]["webhook_secret"])

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


@contextmanager
def running(directory: Path, *args: str, timeout: float = 90.0) -> Iterator[Target]:
    """The local stack on DynamoDB Local."""
    with local_stack(directory, *args, timeout=timeout) as (stack, accounts):
        if stack.engine != "DynamoDB Local":
            raise RuntimeError(f"the table runs on {stack.engine or 'an unknown engine'}, not DynamoDB Local")
        yield Target(stack, accounts, stack.dynamodb)
