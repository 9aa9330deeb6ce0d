"""The normalised status model and its transition rules (pure: no I/O).

Every provider's words map onto :class:`Status`. A stored status moves only forward:

* ``PENDING`` may be replaced by anything; by another ``PENDING`` only when the new
  report is newer, says something else (another raw word: the same word again is a
  duplicate) and the history has room, so "still waiting" answers cannot grow an item
  without bound.
* ``SENT`` (the carrier accepted the message and no handset receipt will come: AWS End User
  Messaging's ``TEXT_SUCCESSFUL`` with ``isFinal``, Twilio's ``sent``) is *settled*: the
  message leaves the pending index, is polled no more and is never closed by the no-receipt
  rule, but a later receipt still replaces it. It is neither delivered nor failed.
* Every other status is final and sticky. The one upgrade is ``DELIVERED`` -> ``READ``.

Because the first final status wins, every final status replaces ``SENT`` and ``READ``
outranks ``DELIVERED`` whichever arrives first, any order and any duplication of one
message's reports ends in the same stored status.
"""

from __future__ import annotations

from enum import StrEnum

#: Most entries kept in a message's history. Final statuses always get in (a message
#: has at most two: its final status and ``READ``); ``PENDING`` refreshes stop here.
HISTORY_LIMIT = 12


class Status(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        """Sticky: no later report but ``READ`` (after ``DELIVERED``) replaces it."""
        return self not in (Status.PENDING, Status.SENT)

    @property
    def is_settled(self) -> bool:
        """No longer waiting: final, or ``SENT`` (no receipt will come). Not polled, not closed by rule."""
        return self is not Status.PENDING

    @property
    def is_success(self) -> bool:
        return self in (Status.DELIVERED, Status.READ)


def replaceable_by(new: Status, *, by_rule: bool = False) -> frozenset[Status]:
    """The stored statuses that a report of ``new`` may replace.

    ``PENDING`` -> ``PENDING`` is listed; the store adds the "newer and history not
    full" part of that rule (see :func:`accepts`). A status set ``by_rule`` (the no-receipt
    rule) replaces ``PENDING`` only: it never overwrites what a provider said.
    """
    if by_rule or not new.is_final:
        return frozenset({Status.PENDING})
    if new is Status.READ:
        return frozenset({Status.PENDING, Status.SENT, Status.DELIVERED})
    return frozenset({Status.PENDING, Status.SENT})


def accepts(
    current: Status | None,
    current_event_time: str | None,
    history_size: int,
    new: Status,
    new_event_time: str,
    *,
    current_raw: str | None = None,
    new_raw: str | None = None,
    by_rule: bool = False,
) -> bool:
    """Whether a report of ``new`` replaces the stored state (``None``: nothing stored).

    Event times are ISO-8601 UTC strings of one fixed format, so they compare as text.
    This is the rule the store's condition expression encodes; the store tests check
    that the two agree.
    """
    if current is None:
        return True
    if current not in replaceable_by(new, by_rule=by_rule):
        return False
    if new is Status.PENDING:
        newer = current_event_time is None or current_event_time < new_event_time
        news = current_raw is None or current_raw != new_raw
        return newer and news and history_size < HISTORY_LIMIT
    return True
