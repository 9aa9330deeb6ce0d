"""The page's live feed: each registration and stored report the stream shows, as JSON entries.

The stream reader's observer (stack.show_records) turns a message item's change into a
:class:`Change`; the console prints it as a line, the feed keeps it as an entry for the
page (``/local/feed``, page.py). Entries carry the number masked, never whole.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dlrhub.table.keys import MESSAGE_SK, read_image
from dlrhub_local.redact import mask_phone

#: Entries kept for a page opened (or reconnecting) after they happened.
KEEP = 500


@dataclass(frozen=True)
class Change:
    """A message item's change that a person watching cares about: ``stored`` (a report) or ``registered``."""

    kind: str
    value: dict[str, Any]


def message_change(old: dict[str, Any], new: dict[str, Any]) -> Change | None:
    """What a stream record's images mean: a report stored (the history grew), a registration, or nothing."""
    if new.get("sk", {}).get("S") != MESSAGE_SK or "status" not in new:
        return None
    if len(new.get("history", {}).get("L", [])) > len(old.get("history", {}).get("L", [])):
        return Change("stored", read_image(new))
    if "registered_at" in new and "registered_at" not in old:
        return Change("registered", read_image(new))
    return None


def feed_entry(change: Change, at: datetime | None = None) -> dict[str, Any]:
    """The JSON the page receives for a change (no whole number in it)."""
    value = change.value
    entry: dict[str, Any] = {
        "at": (at or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "kind": change.kind,
        "provider": value.get("provider"),
        "account": value.get("account"),
        "message_id": value.get("message_id"),
        "status": value.get("status"),
        "raw_status": value.get("raw_status"),
        "source": value.get("source"),
        "to": mask_phone(value.get("destination")),
    }
    if value.get("country"):
        entry["country"] = value["country"]
    return entry


class Feed:
    """The latest entries, numbered from 1; readers wait for new ones (bounded by their timeout)."""

    def __init__(self, keep: int = KEEP) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=keep)
        self._last = 0
        self._changed = threading.Condition()
        self._closed = False

    @property
    def last(self) -> int:
        with self._changed:
            return self._last

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, entry: dict[str, Any]) -> int:
        with self._changed:
            self._last += 1
            self._entries.append({"id": self._last, **entry})
            self._changed.notify_all()
            return self._last

    def since(self, after: int, timeout: float = 0.0) -> list[dict[str, Any]]:
        """Entries numbered above ``after`` (all kept ones when ``after`` is ahead: the stack restarted),
        waiting up to ``timeout`` seconds for one when there is none yet; [] once closed."""
        with self._changed:
            if after > self._last:
                after = 0
            self._changed.wait_for(lambda: self._closed or self._last > after, timeout)
            if self._closed:
                return []
            return [entry for entry in self._entries if entry["id"] > after]

    def close(self) -> None:
        """Wake every reader: the stack stops."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
