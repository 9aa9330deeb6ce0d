"""The provider scorecard (pure): contributions, changes, window state, and the figures the API reads."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dlrhub.domain.scorecard import (
    LATENCY_BOUNDS,
    MAX_ROWS,
    Gathered,
    Row,
    RowKey,
    add,
    capped_words,
    changes,
    contribution,
    decimal_text,
    latency_field,
    sheets,
)
from dlrhub.domain.status import Status
from dlrhub.table.keys import history_entry, message_key, read_message

SUBMITTED = "2026-11-25T10:59:30.000Z"


def item(status: str | None, *, registered: bool = True, history: list[tuple[str, str]] = (), **extra: Any) -> dict:
    """A message item as the table's reader gives it; ``history``: (status, received_at) entries."""
    found: dict[str, Any] = {**message_key("innopaas", "demo", "m1")}
    if status:
        found |= {"status": status, "raw_status": extra.pop("raw", status.lower())}
    if registered:
        found |= {"registered_at": "2026-11-25T10:59:31.000Z", "submitted_at": SUBMITTED}
    found["history"] = [history_entry(s, "webhook", at, None, s.lower()) for s, at in history]
    return read_message(found | extra)


def figures(found: tuple[RowKey, dict[str, Decimal]] | None) -> dict[str, int | Decimal]:
    assert found is not None
    return {name: int(value) if value == int(value) else value for name, value in found[1].items()}


def test_a_registration_counts_one_submission_in_its_hour_and_country() -> None:
    key, _ = contribution(item("PENDING", country="ID")) or (None, None)
    assert key == RowKey("innopaas", "demo", "ID", "2026-11-25T10:00:00Z")
    assert figures(contribution(item("PENDING", country="ID"))) == {"sub": 1}
    assert contribution(item("PENDING"))[0].country == "ZZ"  # type: ignore[index]
    assert contribution(item("DELIVERED", registered=False)) is None  # never registered: not counted


def test_a_delivery_counts_its_latency_from_the_first_final_receipt_and_its_cost() -> None:
    delivered = item(
        "READ",
        history=[
            ("PENDING", "2026-11-25T10:59:35.000Z"),
            ("DELIVERED", "2026-11-25T11:00:10.000Z"),
            ("READ", "2026-11-25T11:30:00.000Z"),
        ],
        cost={"amount": "0.0567", "currency": "CNY", "parts": 2},
    )
    assert figures(contribution(delivered)) == {"sub": 1, "dlv": 1, "l:60": 1, "c:CNY": Decimal("0.0567"), "cd:CNY": 1}


def test_failures_count_their_status_and_word_unknown_and_sent_count_apart() -> None:
    failed = item("REJECTED", raw="MBBLACK", history=[("REJECTED", "2026-11-25T10:59:31.500Z")])
    assert figures(contribution(failed)) == {"sub": 1, "fail": 1, "st:REJECTED": 1, "w:MBBLACK": 1, "l:2": 1}
    unknown = item("UNKNOWN", history=[("UNKNOWN", "2026-11-28T11:00:00.000Z")], cost={"amount": "1"})
    assert figures(contribution(unknown)) == {"sub": 1, "unk": 1, "c:XXX": 1}  # no latency: no receipt said
    assert figures(contribution(item("SENT"))) == {"sub": 1, "sent": 1}


def test_latency_buckets_are_log_spaced_up_to_72_hours() -> None:
    assert [latency_field(s) for s in (-3, 0, 1, 1.5, 59.9, 60, 60.1, 259200, 259201)] == [
        "l:1", "l:1", "l:1", "l:2", "l:60", "l:60", "l:120", "l:259200", "l:+",
    ]  # fmt: skip
    assert all(b / a <= 3 for a, b in itertools.pairwise(LATENCY_BOUNDS))


def test_a_change_adds_the_new_contribution_less_the_old_and_moves_a_message_between_countries() -> None:
    pending = item("PENDING", country="US")
    assert changes({}, pending) == {RowKey("innopaas", "demo", "US", "2026-11-25T10:00:00Z"): {"sub": Decimal(1)}}
    assert changes(pending, item("PENDING", country="US")) == {}  # a PENDING refresh changes nothing
    final = item("FAILED", country="CA", raw="UNDELIV", history=[("FAILED", "2026-11-25T11:00:00.000Z")])
    moved = changes(pending, final)
    assert moved[RowKey("innopaas", "demo", "US", "2026-11-25T10:00:00Z")] == {"sub": Decimal(-1)}
    assert figures((None, moved[RowKey("innopaas", "demo", "CA", "2026-11-25T10:00:00Z")])) == {  # type: ignore[arg-type]
        "sub": 1, "fail": 1, "st:FAILED": 1, "w:UNDELIV": 1, "l:30": 1,
    }  # fmt: skip


STATES = st.builds(
    lambda status, registered, country, cost, minute: item(
        status,
        registered=registered,
        history=[(status, f"2026-11-25T11:{minute:02d}:00.000Z")] if status else [],
        **({"country": country} if country else {}),
        **({"cost": {"amount": cost, "currency": "EUR"}} if cost else {}),
    ),
    st.sampled_from([None, *[s.value for s in Status]]),
    st.booleans(),
    st.sampled_from([None, "ID", "US", "CA"]),
    st.sampled_from([None, "0.01", "0.0035", "1.5"]),
    st.integers(0, 59),
)


@given(st.lists(STATES, min_size=1, max_size=8))
def test_the_changes_of_any_life_add_up_to_what_its_last_state_contributes(lives: list[dict]) -> None:
    """Whatever the states a message goes through, the stream's sum is what the recount counts."""
    summed: dict[RowKey, dict[str, Decimal]] = {}
    for old, new in zip([{}, *lives], lives, strict=False):
        for key, found in changes(old, new).items():
            add(summed, key, found)
    last = contribution(lives[-1])
    assert summed == ({last[0]: last[1]} if last else {})


def test_a_window_state_goes_through_json_and_back() -> None:
    gathered = Gathered()
    key = RowKey("vonage", "eu", "GB", "2026-11-25T10:00:00Z")
    gathered.fold("101", {key: {"sub": Decimal(2), "c:EUR": Decimal("0.0070")}})
    gathered.fold("105", {key: {"dlv": Decimal(1)}})
    again = Gathered.from_state(gathered.to_state())
    assert (again.first, again.last, again.rows) == ("101", "105", gathered.rows)
    assert Gathered.from_state({}).to_state() == {}
    full = Gathered(
        rows={RowKey("p", f"a{i}", "ZZ", "2026-11-25T10:00:00Z"): {"sub": Decimal(1)} for i in range(MAX_ROWS)}
    )
    assert full.fits({RowKey("p", "a0", "ZZ", "2026-11-25T10:00:00Z"): {"sub": Decimal(1)}})  # a row it has
    assert not full.fits({RowKey("p", "new", "ZZ", "2026-11-25T10:00:00Z"): {"sub": Decimal(1)}})


def test_a_write_adds_at_most_ten_words_to_a_row() -> None:
    words = {f"w:E{i:02d}": Decimal(i + 1) for i in range(15)} | {"w:GONE": Decimal(-1), "fail": Decimal(120)}
    capped = capped_words(words)
    assert {name for name in capped if name.startswith("w:E")} == {f"w:E{i:02d}" for i in range(5, 15)}
    assert capped["w:~other"] == sum(range(1, 6))
    assert capped["w:GONE"] == -1
    assert capped["fail"] == 120


def test_a_row_reads_as_the_api_shows_it() -> None:
    key = RowKey("innopaas", "demo", "ID", "2026-11-25T10:00:00Z")
    writer_a = {"sub": 6, "dlv": 3, "fail": 1, "unk": 1, "st:FAILED": 1, "w:UNDELIV": 1, "l:5": 2, "l:60": 1}
    writer_b = {"sub": 4, "dlv": 1, "sent": 1, "l:60": 1, "l:+": 1, "c:CNY": Decimal("0.03"), "cd:CNY": 2}
    other = RowKey("innopaas", "demo", "US", "2026-11-25T11:00:00Z")
    rows = [(key, {k: Decimal(v) for k, v in writer_a.items()}), (key, {k: Decimal(v) for k, v in writer_b.items()})]
    [row] = sheets([*rows, (other, {"sub": Decimal(1)})], country="ID")
    assert (row.count("sub"), row.count("dlv"), row.pending) == (10, 4, 3)
    assert row.delivery_rate == 4 / 6
    assert row.failed_by_status() == {"FAILED": 1, "REJECTED": 0, "EXPIRED": 0}
    assert row.top_words() == [("UNDELIV", 1)]
    assert (row.percentile(0.5), row.percentile(0.95), row.percentile(0.99)) == (60, None, None)
    assert row.costs() == [("CNY", Decimal("0.03"), 2, Decimal("0.015"))]
    assert Row("p", "a", "ZZ", {}).delivery_rate is None
    assert Row("p", "a", "ZZ", {}).percentile(0.5) is None


def test_decimal_text() -> None:
    assert [decimal_text(Decimal(v)) for v in ("0.0189", "1.50", "3", "0.123456789123", "1E+2")] == [
        "0.0189", "1.5", "3", "0.12345679", "100",
    ]  # fmt: skip
