"""Delivery statistics: counters per account and 5-minute bucket of submission time.

Counted from the table's stream (docs/statistics.md), once per transition of a
registered message:

* ``submitted``: the registration (whatever status the message already had);
* ``sent``: messages settled as ``SENT`` (the carrier took it, no receipt will come): +1 on
  entering it, -1 when a receipt replaces it, so it counts those still without one;
* ``delivered`` / ``failed``: the first final status (``READ`` after ``DELIVERED`` adds
  nothing; a success is DELIVERED or READ);
* ``lat_{i}``: a histogram of the time from submission to that final status.

So ``submitted = delivered + failed + sent + pending`` at every moment.

The transitions are derived here, purely, from a stream record's old and new images.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dlrhub.domain.inputs import InvalidInput, check_range
from dlrhub.domain.status import Status

BUCKET = timedelta(minutes=5)
#: Upper bounds (seconds) of the latency histogram; one more bucket holds the rest.
LATENCY_BOUNDS = (5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, 259200)


@dataclass(frozen=True)
class CounterKey:
    provider: str
    account: str
    bucket: str  # ISO start of the 5-minute bucket of submission


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def bucket_of(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(BUCKET.total_seconds()), UTC)


def latency_field(seconds: float) -> str:
    return f"lat_{bisect.bisect_left(LATENCY_BOUNDS, max(0.0, seconds))}"


def outcome_of(item: dict[str, Any]) -> str | None:
    """The counter a message's status falls in: ``delivered``, ``failed``, ``sent``, or None (pending)."""
    status = Status(item["status"]) if item.get("status") else None
    if status is None or not status.is_settled:
        return None
    if not status.is_final:
        return "sent"
    return "delivered" if status.is_success else "failed"


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[CounterKey, Counter[str]] | None:
    """The counter increments one change of a message item makes (None when it makes none). The
    items as the table's reader gives them, identity included (``provider``, ``account``,
    ``message_id``); anything else (a counter, a lease) makes none."""
    if "message_id" not in new or "registered_at" not in new or "submitted_at" not in new:
        return None
    submitted = parse_time(new["submitted_at"])
    key = CounterKey(new["provider"], new["account"], bucket_of(submitted).strftime("%Y-%m-%dT%H:%M:%SZ"))
    counts: Counter[str] = Counter()
    newly_registered = "registered_at" not in old
    if newly_registered:
        counts["submitted"] += 1
    now = outcome_of(new)
    before = None if newly_registered else outcome_of(old)
    if now != before and before in (None, "sent"):  # a final outcome never changes (READ stays delivered)
        if before == "sent":
            counts["sent"] -= 1
        if now is not None:
            counts[now] += 1
        if now in ("delivered", "failed"):
            received = new.get("received_at") or new.get("event_time")
            if received:
                counts[latency_field((parse_time(received) - submitted).total_seconds())] += 1
    return (key, counts) if counts else None


@dataclass(frozen=True)
class WindowStats:
    start: datetime
    end: datetime
    submitted: int
    delivered: int
    failed: int
    sent: int = 0

    @property
    def pending(self) -> int:
        return max(0, self.submitted - self.delivered - self.failed - self.sent)

    @property
    def delivery_rate(self) -> float | None:
        return self.delivered / self.submitted if self.submitted else None


def median_latency(histogram: Counter[str]) -> float | None:
    """The median time to a final receipt, as the upper bound of the histogram bucket
    holding it (seconds); None without any final receipt, inf past the last bound."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for index in range(len(LATENCY_BOUNDS) + 1):
        seen += histogram.get(f"lat_{index}", 0)
        if seen * 2 >= total:
            return float(LATENCY_BOUNDS[index]) if index < len(LATENCY_BOUNDS) else float("inf")
    return float("inf")  # pragma: no cover - the loop covers every bucket


def windows(start: datetime, end: datetime, length: timedelta) -> list[tuple[datetime, datetime]]:
    found = []
    cursor = start
    while cursor < end:
        found.append((cursor, min(cursor + length, end)))
        cursor += length
    return found


def summarize(
    buckets: list[dict[str, Any]], start: datetime, end: datetime, length: timedelta
) -> list[tuple[WindowStats, float | None]]:
    """Sum 5-minute buckets into windows of ``length`` over ``[start, end)``: (stats, median s)."""
    found = []
    for window_start, window_end in windows(start, end, length):
        inside = [b for b in buckets if window_start <= parse_time(b["bucket"]) < window_end]
        total: Counter[str] = Counter()
        for bucket in inside:
            total.update({k: v for k, v in bucket.items() if k != "bucket"})
        latency = Counter({k: v for k, v in total.items() if k.startswith("lat_")})
        stats = WindowStats(
            window_start, window_end, total["submitted"], total["delivered"], total["failed"], total["sent"]
        )
        found.append((stats, median_latency(latency)))
    return found


def align(moment: datetime, length: timedelta) -> datetime:
    """The start of the ``length`` window holding ``moment`` (windows aligned to the epoch)."""
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(length.total_seconds()), UTC)


#: Most windows one statistics request may ask for (a month of hours).
MAX_WINDOWS = 744
#: Windows are aligned to the epoch; these bounds keep every window inside what datetime holds.
STATS_FIRST = datetime(1970, 1, 2, tzinfo=UTC)
STATS_LAST = datetime(9999, 12, 30, tzinfo=UTC)


def first_window(start: datetime, end: datetime, length: timedelta, what: str = "windows") -> datetime:
    """The start of the first window of ``[start, end)`` (``start`` aligned down), or InvalidInput
    saying why the range cannot be read: times without a zone, outside the bounds, empty, too many windows."""
    check_range(start, end)
    if not STATS_FIRST <= start < end <= STATS_LAST:
        raise InvalidInput("statistics cover 1970-01-02 to 9999-12-30, and to must be after from")
    first = align(start, length)
    if end <= first:
        raise InvalidInput("to must be after from")
    if (end - first) / length > MAX_WINDOWS:
        raise InvalidInput(f"at most {MAX_WINDOWS} {what} per request")
    return first
