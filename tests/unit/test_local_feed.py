"""The page's live feed: which stream changes become entries, what an entry shows, how readers wait."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from dlrhub.table.keys import history_entry, message_key, typed_key
from dlrhub_local.feed import Change, Feed, feed_entry, message_change

MESSAGE = {
    **typed_key(message_key("infin8linx", "demo", "36160109669")),
    "status": {"S": "PENDING"},
    "destination": {"S": "628131565746"},
}
HISTORY = {"L": [{"S": history_entry("DELIVERED", "webhook", "2026-11-25T10:41:23Z", None, "1")}]}


def test_a_report_a_registration_and_other_changes() -> None:
    registered = {**MESSAGE, "registered_at": {"S": "2026-11-25T10:00:00Z"}}
    stored = {**registered, "status": {"S": "DELIVERED"}, "raw_status": {"S": "1"}, "history": HISTORY}
    assert message_change({}, registered).kind == "registered"
    change = message_change(registered, stored)
    assert change is not None
    assert (change.kind, change.value["message_id"], change.value["source"]) == ("stored", "36160109669", "webhook")
    assert message_change(stored, stored) is None  # nothing a person would see changed
    assert message_change({}, {"sk": {"S": "STATS#x"}, "status": {"S": "PENDING"}}) is None  # not a message


def test_an_entry_masks_the_number_and_keeps_the_country() -> None:
    value = {
        "provider": "infin8linx",
        "account": "demo",
        "message_id": "1",
        "status": "DELIVERED",
        "raw_status": "1",
        "source": "webhook",
        "destination": "628131565746",
        "country": "ID",
    }
    entry = feed_entry(Change("stored", value), datetime(2026, 11, 25, 10, 41, 23, tzinfo=UTC))
    assert entry["to"] == "6281******46"
    assert "628131565746" not in repr(entry)
    assert (entry["at"], entry["country"], entry["kind"]) == ("2026-11-25T10:41:23Z", "ID", "stored")
    assert "country" not in feed_entry(Change("stored", {**value, "country": None}))


def test_readers_get_what_came_after_their_id() -> None:
    feed = Feed(keep=3)
    for n in range(5):
        feed.publish({"n": n})
    assert [entry["id"] for entry in feed.since(0)] == [3, 4, 5]  # only the last three are kept
    assert [entry["n"] for entry in feed.since(4)] == [4]
    assert [entry["id"] for entry in feed.since(99)] == [3, 4, 5]  # an id from an earlier run: all kept


def test_a_reader_waits_for_the_next_entry_then_gives_up() -> None:
    feed = Feed()
    started = time.monotonic()
    assert feed.since(0, timeout=0.2) == []
    assert time.monotonic() - started >= 0.2
    threading.Timer(0.1, lambda: feed.publish({"n": 1})).start()
    assert [entry["n"] for entry in feed.since(0, timeout=5)] == [1]


def test_closing_wakes_the_readers() -> None:
    feed = Feed()
    threading.Timer(0.1, feed.close).start()
    started = time.monotonic()
    assert feed.since(0, timeout=5) == []
    assert time.monotonic() - started < 2
