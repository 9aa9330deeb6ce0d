"""The status rules: pure, and order-independent for one message's reports."""

from __future__ import annotations

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from dlrhub.domain.status import HISTORY_LIMIT, Status, accepts

FINALS = [s for s in Status if s.is_final]
T1, T2 = "2026-11-25T10:00:00.000Z", "2026-11-25T10:05:00.000Z"


def test_pending_and_sent_are_the_statuses_not_final() -> None:
    assert [s for s in Status if not s.is_final] == [Status.PENDING, Status.SENT]


def test_only_pending_is_unsettled() -> None:
    assert [s for s in Status if not s.is_settled] == [Status.PENDING]


@pytest.mark.parametrize("final", FINALS)
def test_every_final_status_replaces_sent(final: Status) -> None:
    assert accepts(Status.SENT, T1, 1, final, T2)
    assert accepts(Status.SENT, T2, 1, final, T1)  # whatever its time: SENT is no receipt


@pytest.mark.parametrize("new", [Status.PENDING, Status.SENT])
def test_sent_is_replaced_by_no_waiting_word_nor_by_itself(new: Status) -> None:
    assert not accepts(Status.SENT, T1, 1, new, T2, current_raw="sent", new_raw="other")


def test_the_no_receipt_rule_closes_pending_only() -> None:
    assert accepts(Status.PENDING, T1, 1, Status.UNKNOWN, T2, by_rule=True)
    assert not accepts(Status.SENT, T1, 1, Status.UNKNOWN, T2, by_rule=True)
    assert not accepts(Status.DELIVERED, T1, 1, Status.READ, T2, by_rule=True)


@pytest.mark.parametrize("final", FINALS)
def test_anything_replaces_pending(final: Status) -> None:
    assert accepts(Status.PENDING, T1, 1, final, T1)


@pytest.mark.parametrize("stored", FINALS)
@pytest.mark.parametrize("new", list(Status))
def test_final_statuses_are_sticky_except_delivered_to_read(stored: Status, new: Status) -> None:
    expected = stored is Status.DELIVERED and new is Status.READ
    assert accepts(stored, T1, 1, new, T2) is expected


def test_nothing_stored_accepts_anything() -> None:
    assert all(accepts(None, None, 0, new, T1) for new in Status)


def test_pending_refresh_needs_a_newer_report_and_room_in_history() -> None:
    assert accepts(Status.PENDING, T1, 1, Status.PENDING, T2)
    assert not accepts(Status.PENDING, T2, 1, Status.PENDING, T1)
    assert not accepts(Status.PENDING, T1, 1, Status.PENDING, T1)
    assert not accepts(Status.PENDING, T1, HISTORY_LIMIT, Status.PENDING, T2)


def test_the_same_pending_word_again_is_a_duplicate_even_when_newer() -> None:
    assert not accepts(Status.PENDING, T1, 1, Status.PENDING, T2, current_raw="send", new_raw="send")
    assert accepts(Status.PENDING, T1, 1, Status.PENDING, T2, current_raw="send", new_raw="partly_deliver")


def apply_all(reports: list[tuple[Status, str]]) -> Status | None:
    """An in-memory store applying reports one by one under the rules."""
    current: Status | None = None
    event_time: str | None = None
    history = 0
    for status, when in reports:
        if accepts(current, event_time, history, status, when):
            current, event_time, history = status, when, history + 1
    return current


def expected_outcome(truth: Status | None, read: bool, sent: bool = False) -> Status:
    if truth is None:
        return Status.SENT if sent else Status.PENDING
    return Status.READ if read and truth is Status.DELIVERED else truth


times = st.integers(min_value=0, max_value=59).map(lambda m: f"2026-11-25T10:{m:02d}:00.000Z")


@st.composite
def one_message_reports(draw: st.DrawFn) -> tuple[list[tuple[Status, str]], Status]:
    """The reports one message really produces, then shuffled and duplicated."""
    pending = draw(st.lists(times.map(lambda t: (Status.PENDING, t)), max_size=6))
    truth = draw(st.one_of(st.none(), st.sampled_from(FINALS)))
    read = truth is Status.DELIVERED and draw(st.booleans())
    sent = draw(st.booleans())  # the carrier's "taken, no receipt will come", before or without a receipt
    reports = list(pending)
    if sent:
        reports.append((Status.SENT, draw(times)))
    if truth is not None:
        reports.append((truth, draw(times)))
    if read:
        reports.append((Status.READ, draw(times)))
    if not reports:
        reports.append((Status.PENDING, draw(times)))
    copies = draw(st.lists(st.sampled_from(reports), max_size=8))
    shuffled = draw(st.permutations(reports + copies))
    return list(shuffled), expected_outcome(truth, read, sent)


@settings(max_examples=500, deadline=None)
@given(one_message_reports())
def test_any_order_and_duplication_ends_in_the_same_status(case: tuple[list[tuple[Status, str]], Status]) -> None:
    reports, expected = case
    assert apply_all(reports) is expected


def test_the_property_catches_a_last_writer_wins_store() -> None:
    """Guard for the property test itself: it finds the flaw of a naive store."""
    case = find(one_message_reports(), lambda case: case[0][-1][0] is not case[1])
    assert case[0][-1][0] is not apply_all(case[0])
