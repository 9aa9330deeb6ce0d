"""One text format for every stored time, so stored times compare and sort as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """``2026-11-25T11:02:03.123Z``: UTC, millisecond precision, fixed width."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    utc = moment.astimezone(UTC)
    # The year by hand: strftime's %Y does not pad years before 1000 on every platform (glibc).
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def from_epoch_ms(value: int | str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def parse_iso(text: str) -> datetime:
    """A stored time (``…Z``, or any ISO-8601 with a zone) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
