"""The customer API's work: registering sent messages (good items stored, bad ones named)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from dlrhub.domain import registration
from dlrhub.domain.registration import MAX_BATCH, validate_items
from dlrhub.domain.replies import (
    CostPerCurrency,
    Latency,
    LatencyBucket,
    ScorecardReply,
    ScorecardRow,
    StatsReply,
    WindowView,
    WordCount,
)
from dlrhub.domain.scorecard import HOUR, Row, decimal_text, sheets
from dlrhub.domain.stats import first_window, summarize
from dlrhub.domain.times import iso, utc_now
from dlrhub.providers.registry import PROVIDERS, provider_named
from dlrhub.table.counters import StatsStore
from dlrhub.table.messages import MessageStore, Registered
from dlrhub.table.scorecard import ScorecardStore

#: Every registered provider's name (the OpenAPI document lists them as an enum). mypy cannot
#: check a Literal built at run time; pydantic reads it as the enum it is.
ProviderName = Literal[tuple(provider.name for provider in PROVIDERS)]  # type: ignore[valid-type]


class Registration(registration.Registration):
    """One message the customer sent, through a provider the hub knows (the domain's registration,
    with the provider's name checked against the registry and its message id against its form)."""

    provider: ProviderName = Field(description="the provider the message was sent through")

    @model_validator(mode="after")
    def _the_providers_id(self) -> Registration:
        provider = provider_named(self.provider)
        if (
            provider is not None
            and provider.message_id is not None
            and not provider.message_id.fullmatch(self.message_id)
        ):
            raise ValueError(f"message_id: a {self.provider} message id is {provider.message_id_words}")
        return self


class RegistrationBatch(BaseModel):
    """The request body: items are checked one by one, so good ones are kept beside bad ones."""

    messages: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="each a Registration; checked one by one (bad ones are named, good ones stored)",
        json_schema_extra={"items": Registration.model_json_schema()},
    )


#: Parallel UpdateItems for one batch (each is one small write; DynamoDB takes them all).
WORKERS = 16


class ItemError(BaseModel):
    index: int = Field(description="position of the item in `messages`")
    message_id: str | None = None
    reason: str


class RegistrationReply(BaseModel):
    registered: int = Field(description="new messages")
    merged: int = Field(description="reports had arrived first; the registration was added to them")
    already_registered: int = Field(description="registered before; nothing changed")
    rejected: int = Field(description="invalid items, none stored; see errors")
    errors: list[ItemError] = Field(default_factory=list)


class Registrar:
    def __init__(self, store: MessageStore, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def register(self, items: list[Any]) -> RegistrationReply:
        valid, rejected = validate_items(items, Registration)
        now = self._clock()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = Counter(pool.map(lambda reg: self._store.register(reg, now), valid))
        return RegistrationReply(
            registered=outcomes[Registered.NEW],
            merged=outcomes[Registered.MERGED],
            already_registered=outcomes[Registered.ALREADY],
            rejected=len(rejected),
            errors=[ItemError(index=r.index, message_id=r.ref, reason=r.reason) for r in rejected],
        )


def statistics(
    counters: StatsStore, provider: str, account: str, start: datetime, end: datetime, window: timedelta
) -> StatsReply:
    """``GET /stats``: the counters of ``[start, end)`` summed per window (``start`` aligned down to
    the window); InvalidInput when the range cannot be read."""
    first = first_window(start, end, window)
    buckets = counters.buckets(provider, account, first, end)
    windows = [
        WindowView(
            start=iso(stats.start),
            end=iso(stats.end),
            submitted=stats.submitted,
            delivered=stats.delivered,
            failed=stats.failed,
            sent=stats.sent,
            pending=stats.pending,
            delivery_rate=stats.delivery_rate,
            median_seconds_to_final=int(median) if median is not None and median != float("inf") else None,
        )
        for stats, median in summarize(buckets, first, end, window)
    ]
    return StatsReply(provider=provider, account=account, window_seconds=int(window.total_seconds()), windows=windows)


def scorecard_row(row: Row) -> ScorecardRow:
    return ScorecardRow(
        provider=row.provider,
        account=row.account,
        country=row.country,
        submitted=row.count("sub"),
        delivered=row.count("dlv"),
        failed=row.count("fail"),
        sent=row.count("sent"),
        unknown=row.count("unk"),
        pending=row.pending,
        failed_by_status=row.failed_by_status(),
        top_failure_words=[WordCount(word=word, count=count) for word, count in row.top_words()],
        delivery_rate=row.delivery_rate,
        latency=Latency(
            buckets=[LatencyBucket(le_seconds=bound, count=count) for bound, count in row.histogram()],
            p50_seconds=row.percentile(0.50),
            p95_seconds=row.percentile(0.95),
            p99_seconds=row.percentile(0.99),
        ),
        cost=[
            CostPerCurrency(
                currency=currency,
                total=decimal_text(total),
                delivered=delivered,
                per_delivered=decimal_text(each) if each is not None else None,
            )
            for currency, total, delivered, each in row.costs()
        ],
    )


def scorecard(
    store: ScorecardStore,
    start: datetime,
    end: datetime,
    *,
    country: str | None = None,
    provider: str | None = None,
    account: str | None = None,
) -> ScorecardReply:
    """``GET /scorecard``: the hours from ``start`` (aligned down) to ``end`` summed per provider, account
    and country; InvalidInput when the range cannot be read (as ``/stats``: zones, at most 744 hours)."""
    first = first_window(start, end, HOUR, what="hours")
    rows = sheets(store.rows(first, end, provider=provider, account=account), country)
    return ScorecardReply(start=iso(first), end=iso(end), rows=[scorecard_row(row) for row in rows])
