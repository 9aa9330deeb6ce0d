"""Many senders at once: each thread its own keep-alive connection, cases taken in index order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dlrhub_measure.proof.cases import Case
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
        connection = Connection(LOOPBACK, port, timeout=timeout)
        try:
            while (index := take()) is not None:
                case = make(index)
                own = Connection(LOOPBACK, port, timeout=timeout) if case.fresh else connection
                started = time.monotonic()
                try:
                    reply, error = own.send(case.data, head=case.head), None
                except NoReply as failure:
                    reply, error = None, str(failure)
                finally:
                    if case.fresh:
                        own.close()
                on_sent(Sent(index, case, reply, error, time.monotonic() - started))
        except BaseException as failure:  # a generator's or a check's bug: raised in the caller, not lost
            errors.append(failure)
            with lock:
                next_index[0] = count  # the others stop too
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, name=f"sender-{n}", daemon=True) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(budget + 2 * timeout)
    if errors:
        raise errors[0]
    return min(next_index[0], count)
