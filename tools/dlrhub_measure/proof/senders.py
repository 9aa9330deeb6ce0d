"""Many senders at once: each thread its own keep-alive connection, cases taken in index order; and the
tally of what came back, which every suite keeps alike."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from dlrhub_measure.proof.cases import Case
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.leaks import LeakScanner
from dlrhub_measure.proof.rawhttp import Connection, NoReply, Reply

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Sent:
    index: int
    case: Case
    reply: Reply | None
    #: Why there is no reply (the connection closed, or nothing came in time).
    error: str | None
    seconds: float


def _send(connection: Connection, case: Case, port: int, timeout: float) -> tuple[Reply | None, str | None]:
    """The case's reply, or why there is none; on a connection of its own when the case asks for one."""
    own = Connection(LOOPBACK, port, timeout=timeout) if case.fresh else connection
    try:
        return own.send(case.data, head=case.head), None
    except NoReply as failure:
        return None, str(failure)
    finally:
        if case.fresh:
            own.close()


def send_cases(
    port: int,
    make: Callable[[int], Case],
    count: int,
    on_sent: Callable[[Sent], None],
    *,
    senders: int,
    budget: float,
    timeout: float = 30.0,
) -> int:
    """Send cases ``make(0)`` … ``make(count - 1)`` from ``senders`` threads; ``on_sent`` (called from
    those threads) gets each outcome. Stops early after ``budget`` seconds; returns how many were sent."""
    lock = threading.Lock()
    next_index = [0]
    deadline = time.monotonic() + budget

    def take() -> int | None:
        with lock:
            index = next_index[0]
            if index >= count or time.monotonic() > deadline:
                return None
            next_index[0] += 1
            return index

    errors: list[BaseException] = []

    def sender() -> None:
        with closing(Connection(LOOPBACK, port, timeout=timeout)) as connection:
            try:
                while (index := take()) is not None:
                    case, started = make(index), time.monotonic()
                    reply, error = _send(connection, case, port, timeout)
                    on_sent(Sent(index, case, reply, error, time.monotonic() - started))
            except BaseException as failure:  # a generator's or a check's bug: raised in the caller, not lost
                errors.append(failure)
                with lock:
                    next_index[0] = count  # the others stop too

    threads = [threading.Thread(target=sender, name=f"sender-{n}", daemon=True) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(budget + 2 * timeout)
    if errors:
        raise errors[0]
    return min(next_index[0], count)


class Tally:
    """What came back to a suite's senders, under one lock: requests, statuses by :meth:`group`, reply
    times and 5xx in its figures; no reply, or one showing what it must not (:mod:`.leaks`), a failure.
    Each suite judges the replies its own way in :meth:`took`."""

    def __init__(self, figures: Figures, scanner: LeakScanner) -> None:
        self.figures = figures
        self.scanner = scanner
        self.lock = threading.Lock()
        #: (group, status) -> replies; status 0: no reply.
        self.statuses: Counter[tuple[str, int]] = Counter()

    def group(self, case: Case) -> str:
        """What statuses are counted by."""
        return case.kind

    def name(self, sent: Sent) -> str:
        """The request, as a failure names it."""
        return f"{sent.case.origin} ({sent.case.kind})"

    def took(self, sent: Sent, reply: Reply) -> None:
        """A suite's own look at a reply (under the lock)."""

    def __call__(self, sent: Sent) -> None:
        case, reply = sent.case, sent.reply
        self.scanner.add_phones(case.phones)
        with self.lock:
            self.figures.requests += 1
            self.statuses[(self.group(case), reply.status if reply else 0)] += 1
            if reply is None:
                self.figures.fail(f"{self.name(sent)}: no reply ({sent.error})")
                return
            self.figures.times.append(reply.seconds)
            self.figures.server_errors += reply.status >= 500
            self.took(sent, reply)
        own_read = case.route == "api" and reply.status < 300  # the customer API shows what it was given
        for problem in self.scanner.in_reply(reply.text, phones=not own_read):
            with self.lock:
                self.figures.fail(f"{self.name(sent)}: the reply shows {problem}: {reply.text[:200]!r}")
