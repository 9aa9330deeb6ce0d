"""A status report, the one shape every provider's news takes, with the identifiers and times it carries."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from dlrhub.domain.status import Status

#: Identifiers that end up in DynamoDB keys and URLs: short, printable, no separators.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")]
AccountName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("time must carry a timezone")
    if value is not None and not in_utc_range(value):
        raise ValueError("time is out of range once in UTC (years 1 to 9999)")
    return value


def in_utc_range(value: datetime) -> bool:
    """Whether UTC can hold ``value`` (0001-01-01T00:30+01:00 it cannot): stored times are UTC text."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class Source(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    RULE = "rule"
    EVENT = "event"  # an EventBridge event (AWS End User Messaging SMS)


class Cost(BaseModel):
    """What the provider charged for the message, as it said it (amounts stay decimal text)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    amount: Annotated[str, StringConstraints(max_length=32, pattern=r"^-?[0-9]+(\.[0-9]+)?$")]
    currency: Annotated[str, StringConstraints(max_length=8)] | None = None
    parts: int | None = Field(default=None, ge=0, le=1000)


class StatusReport(BaseModel):
    """One provider report of one message's status, already normalised."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    provider: Identifier
    account: AccountName
    message_id: Identifier
    status: Status
    raw_status: Annotated[str, StringConstraints(max_length=64)]
    provider_time: AwareTime | None = None
    received_at: AwareTime
    source: Source
    destination: Annotated[str, StringConstraints(max_length=32)] | None = None
    details: dict[str, str] = Field(default_factory=dict)
    cost: Cost | None = None
    #: The destination's country as the provider named it (its MCC, or an ISO code), ISO 3166-1 alpha-2:
    #: stored on the message in place of the one registration derived from the number's calling code.
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None

    @property
    def event_time(self) -> datetime:
        """The time the report speaks of: the provider's, else when it reached us."""
        return self.provider_time or self.received_at
