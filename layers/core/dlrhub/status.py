"""The normalised status model and its transition rules (pure: no I/O).

Every provider's words map onto :class:`Status`. A stored status moves only forward:

* ``PENDING`` may be replaced by anything; by another ``PENDING`` only when the new
  report is newer, says something else (another raw word: the same word again is a
  duplicate) and the history has room, so "still waiting" answers cannot grow an item
  without bound.
* Every other status is final and sticky. The one upgrade is ``DELIVERED`` -> ``READ``.

Because the first final status wins and ``READ`` outranks ``DELIVERED`` whichever
arrives first, any order and any duplication of one message's reports ends in the same
stored status.
"""

from __future__ import annotations

from enum import StrEnum

#: Most entries kept in a message's history. Final statuses always get in (a message
#: has at most two: its final status and ``READ``); ``PENDING`` refreshes stop here.
HISTORY_LIMIT = 12


class Status(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        return self is not Status.PENDING

    @property
    def is_success(self) -> bool:
        return self in (Status.DELIVERED, Status.READ)


def replaceable_by(new: Status) -> frozenset[Status]:
    """The stored statuses that a report of ``new`` may replace.

    ``PENDING`` -> ``PENDING`` is listed; the store adds the "newer and history not
    full" part of that rule (see :func:`accepts`).
    """
    if new is Status.READ:
        return frozenset({Status.PENDING, Status.DELIVERED})
    return frozenset({Status.PENDING})


def accepts(
    current: Status | None,
    current_event_time: str | None,
    history_size: int,
    new: Status,
    new_event_time: str,
    *,
    current_raw: str | None = None,
    new_raw: str | None = None,
) -> bool:
    """Whether a report of ``new`` replaces the stored state (``None``: nothing stored).

    Event times are ISO-8601 UTC strings of one fixed format, so they compare as text.
    This is the rule the store's condition expression encodes; the store tests check
    that the two agree.
    """
    if current is None:
        return True
    if current not in replaceable_by(new):
        return False
    if new is Status.PENDING:
        newer = current_event_time is None or current_event_time < new_event_time
        news = current_raw is None or current_raw != new_raw
        return newer and news and history_size < HISTORY_LIMIT
    return True
