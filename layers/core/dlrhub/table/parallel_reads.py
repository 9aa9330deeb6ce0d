"""Reading several sources at once (the index shards of one listing)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar, cast

T = TypeVar("T")
_DONE = object()


class _Handover:
    """The bounded queue between the readers and the consumer; closing it stops every reader."""

    def __init__(self, size: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=size)
        self._closed = threading.Event()

    def offer(self, item: object) -> bool:
        """Put ``item``, waiting while the queue is full; False once closed."""
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def take(self) -> object:
        return self._queue.get()

    def close(self) -> None:
        self._closed.set()

    def read(self, source: Iterator[T]) -> None:
        """A reader thread: every item of ``source``, then its error if any, then _DONE."""
        try:
            for item in source:
                if not self.offer(item):
                    return
        except Exception as error:  # handed to the consumer, which raises it
            self.offer(error)
        finally:
            self.offer(_DONE)


def merged(sources: list[Iterator[T]], *, ahead: int = 2) -> Iterator[T]:
    """The items of every source, each source read in a thread of its own, in the order they come.

    At most ``ahead`` items per source wait to be taken. The first exception of a source is
    raised here; leaving early (an exception, or closing the generator) stops every reader
    at its next item.
    """
    handover = _Handover(ahead * max(1, len(sources)))
    threads = [threading.Thread(target=handover.read, args=(source,), daemon=True) for source in sources]
    for thread in threads:
        thread.start()
    try:
        done = 0
        while done < len(threads):
            item = handover.take()
            if item is _DONE:
                done += 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield cast(T, item)  # a reader puts only its source's items, _DONE and errors
    finally:
        handover.close()
