"""Reading several sources at once (the index shards of one listing)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def merged(sources: list[Iterator[T]], *, ahead: int = 2) -> Iterator[T]:
    """The items of every source, each source read in a thread of its own, in the order they come.

    At most ``ahead`` items per source wait to be taken. The first exception of a source is
    raised here; leaving early (an exception, or closing the generator) stops every reader
    at its next item.
    """
    found: queue.Queue[object] = queue.Queue(maxsize=ahead * max(1, len(sources)))
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                found.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read(source: Iterator[T]) -> None:
        try:
            for item in source:
                if not offer(item):
                    return
        except Exception as error:  # handed to the consumer, which raises it
            offer(error)
        finally:
            offer(_DONE)

    threads = [threading.Thread(target=read, args=(source,), daemon=True) for source in sources]
    for thread in threads:
        thread.start()
    try:
        done = 0
        while done < len(threads):
            item = found.get()
            if item is _DONE:
                done += 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield item  # type: ignore[misc]
    finally:
        stop.set()
