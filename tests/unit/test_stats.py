"""Counting transitions (pure): what each change of a message item adds to the counters."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from dlrhub.domain.stats import (
    LATENCY_BOUNDS,
    align,
    bucket_of,
    changes,
    latency_field,
    median_latency,
    summarize,
)
from dlrhub.table.keys import message_key, with_identity

SUBMITTED = "2026-11-25T10:07:30.000Z"


def item(status: str, registered: bool = True, received: str | None = None) -> dict:
    found = with_identity({**message_key("infin8linx", "demo", "42"), "status": status})
    if registered:
        found |= {"registered_at": "2026-11-25T10:07:31.000Z", "submitted_at": SUBMITTED}
    if received:
        found["received_at"] = received
    return found


def test_registration_counts_one_submission_in_its_5_minute_bucket() -> None:
    key, counts = changes({}, item("PENDING"))
    assert key.bucket == "2026-11-25T10:05:00Z"
    assert counts == Counter(submitted=1)


def test_first_final_status_counts_once_with_its_latency() -> None:
    _, counts = changes(item("PENDING"), item("DELIVERED", received="2026-11-25T10:08:00.000Z"))
    assert counts == Counter(delivered=1, **{latency_field(30): 1})
    assert changes(item("DELIVERED"), item("READ")) is None  # still one success
    _, failed = changes(item("PENDING"), item("REJECTED", received="2026-11-25T11:07:30.000Z"))
    assert failed["failed"] == 1
    assert failed[latency_field(3600)] == 1


def test_report_before_registration_counts_both_when_registered() -> None:
    before = item("FAILED", registered=False, received="2026-11-25T10:07:35.000Z")
    _, counts = changes(before, {**before, **item("FAILED", received="2026-11-25T10:07:35.000Z")})
    assert counts["submitted"] == 1
    assert counts["failed"] == 1


def test_sent_counts_apart_and_hands_over_to_a_later_receipt() -> None:
    _, counts = changes(item("PENDING"), item("SENT", received="2026-11-25T10:08:00.000Z"))
    assert counts == Counter(sent=1)  # neither delivered nor failed, no latency: no receipt
    _, counts = changes(item("SENT"), item("DELIVERED", received="2026-11-25T10:09:00.000Z"))
    assert counts == Counter(sent=-1, delivered=1, **{latency_field(90): 1})
    _, counts = changes({}, item("SENT"))  # registered after the carrier's word
    assert counts == Counter(submitted=1, sent=1)


def test_every_life_sums_to_submitted() -> None:
    """submitted = delivered + failed + sent + pending, whatever path a message took."""
    for path in (["PENDING", "SENT", "DELIVERED", "READ"], ["SENT", "FAILED"], ["PENDING", "SENT"], ["PENDING"]):
        total: Counter[str] = Counter()
        old: dict = {}
        for status in path:
            new = item(status, received="2026-11-25T10:09:00.000Z")
            found = changes(old, new)
            if found:
                total.update(found[1])
            old = new
        settled = total["delivered"] + total["failed"] + total["sent"]
        assert total["submitted"] == 1
        assert settled == (0 if path[-1] == "PENDING" else 1)


def test_unregistered_messages_and_other_items_count_nothing() -> None:
    assert changes({}, item("DELIVERED", registered=False)) is None
    assert changes({}, {"sk": "LEASE"}) is None
    assert changes(item("PENDING"), item("PENDING")) is None


@pytest.mark.parametrize(("seconds", "index"), [(0, 0), (5, 0), (6, 1), (3600, 8), (10**7, len(LATENCY_BOUNDS))])
def test_latency_buckets(seconds: float, index: int) -> None:
    assert latency_field(seconds) == f"lat_{index}"


def test_median_is_the_bound_of_the_middle_bucket() -> None:
    assert median_latency(Counter()) is None
    assert median_latency(Counter(lat_0=1, lat_3=1, lat_5=1)) == 60
    assert median_latency(Counter({f"lat_{len(LATENCY_BOUNDS)}": 3, "lat_0": 1})) == float("inf")


def test_summarize_sums_buckets_into_windows() -> None:
    start = datetime(2026, 11, 25, 10, tzinfo=UTC)
    buckets = [
        {"bucket": "2026-11-25T10:00:00Z", "submitted": 3, "delivered": 2, "lat_0": 2},
        {"bucket": "2026-11-25T10:55:00Z", "submitted": 1, "failed": 1, "lat_2": 1},
        {"bucket": "2026-11-25T11:00:00Z", "submitted": 5},
    ]
    [(first, median), (second, none)] = summarize(buckets, start, start + timedelta(hours=2), timedelta(hours=1))
    assert (first.submitted, first.delivered, first.failed, first.pending) == (4, 2, 1, 1)
    assert first.delivery_rate == 0.5
    assert median == 5
    assert (second.submitted, second.pending, none) == (5, 5, None)


def test_windows_align_to_the_epoch() -> None:
    moment = datetime(2026, 11, 25, 10, 59, 59, tzinfo=UTC)
    assert align(moment, timedelta(hours=1)) == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert bucket_of(moment) == datetime(2026, 11, 25, 10, 55, tzinfo=UTC)
