"""What the customer API answers: a stored message, a page of them, statistics, the scorecard, an error."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dlrhub.domain.status import Status


class HistoryEntry(BaseModel):
    status: Status
    raw_status: str
    event_time: str = Field(description="the provider's time, else when the hub received the report")
    received_at: str
    provider_time: str | None = Field(default=None, description="the time the provider gave, if any")
    source: str
    details: dict[str, str] | None = Field(
        default=None, description="only on entries stored before 2026-11-25; the latest report's are provider_details"
    )


class CostView(BaseModel):
    amount: str = Field(description="as the provider gave it, decimal text")
    currency: str | None = None
    parts: int | None = None


class MessageSummary(BaseModel):
    provider: str
    account: str
    message_id: str
    status: Status
    final: bool = Field(description="sticky: only DELIVERED -> READ follows")
    settled: bool = Field(description="waits no more: final, or SENT (no receipt will come; one may still replace it)")
    raw_status: str | None = Field(default=None, description="the provider's own word; absent before any report")
    event_time: str | None = None
    submitted_at: str | None = None
    customer_ref: str | None = None


class MessageView(MessageSummary):
    provider_time: str | None = None
    received_at: str | None = None
    registered_at: str | None = None
    first_seen_at: str | None = None
    destination: str | None = None
    parts: int | None = None
    source: str | None = None
    cost: CostView | None = None
    provider_details: dict[str, str] | None = None
    history: list[HistoryEntry] = Field(default_factory=list)


class MessagePage(BaseModel):
    items: list[MessageSummary]
    next_cursor: str | None = Field(default=None, description="pass as cursor for the next page; absent at the end")


class ErrorReply(BaseModel):
    message: str = Field(description="what is wrong, in words")
    errors: list[dict[str, Any]] | None = Field(default=None, description="each invalid field, where there are several")


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB numbers come back as Decimal: whole ones become int."""
    out = dict(item)
    for key in ("parts",):
        if out.get(key) is not None:
            out[key] = int(out[key])
    if isinstance(out.get("cost"), dict) and out["cost"].get("parts") is not None:
        out["cost"] = {**out["cost"], "parts": int(out["cost"]["parts"])}
    out["final"] = Status(out["status"]).is_final
    out["settled"] = Status(out["status"]).is_settled
    return out


def message_view(item: dict[str, Any]) -> MessageView:
    return MessageView.model_validate(_plain(item), from_attributes=False)


def message_summary(item: dict[str, Any]) -> MessageSummary:
    return MessageSummary.model_validate(_plain(item))


class WindowView(BaseModel):
    start: str
    end: str
    submitted: int = Field(description="messages registered as submitted in the window")
    delivered: int = Field(description="of those, DELIVERED or READ so far")
    failed: int = Field(description="of those, with another final status so far")
    sent: int = Field(
        description="of those, SENT so far: taken by the carrier, no receipt (neither delivered nor failed)"
    )
    pending: int = Field(description="of those, not settled yet")
    delivery_rate: float | None = Field(description="delivered / submitted; null without submissions")
    median_seconds_to_final: int | None = Field(
        description="upper bound of the histogram bucket holding the median time from submission to the final "
        "receipt (buckets 5 s, 10 s, 30 s, 1, 2, 5, 10, 30 min, 1, 2, 6, 24, 72 h); null without final receipts "
        "or beyond 72 h"
    )


class StatsReply(BaseModel):
    provider: str
    account: str
    window_seconds: int
    windows: list[WindowView]


class LatencyBucket(BaseModel):
    le_seconds: int | None = Field(description="upper bound of the bucket, seconds; null: beyond the last bound")
    count: int


class Latency(BaseModel):
    buckets: list[LatencyBucket] = Field(
        description="final receipts (delivered or failed) by seconds from submission, log-spaced bounds 1 s to 72 h"
    )
    p50_seconds: int | None = Field(description="upper bound of the bucket holding the median; null: none, or beyond")
    p95_seconds: int | None
    p99_seconds: int | None


class WordCount(BaseModel):
    word: str = Field(description="the provider's raw word of a failure (up to 32 characters)")
    count: int


class CostPerCurrency(BaseModel):
    currency: str = Field(description="as the provider gave it; XXX where it gave none")
    total: str = Field(description="sum of the prices reported, any outcome (decimal text, exact)")
    delivered: int = Field(description="delivered messages with a price in this currency")
    per_delivered: str | None = Field(description="total / delivered (decimal text, 8 places); null: none delivered")


class ScorecardRow(BaseModel):
    provider: str
    account: str
    country: str = Field(description="ISO 3166-1 alpha-2 of the destination; ZZ: unknown")
    submitted: int = Field(description="messages registered as submitted in the hours")
    delivered: int = Field(description="of those, DELIVERED or READ")
    failed: int = Field(description="of those, FAILED, REJECTED or EXPIRED")
    sent: int = Field(description="of those, SENT: the carrier took it, no receipt will come")
    unknown: int = Field(description="of those, UNKNOWN: final without a receipt saying either way")
    pending: int = Field(description="of those, not settled yet")
    failed_by_status: dict[str, int]
    top_failure_words: list[WordCount] = Field(description="at most 5, most frequent first")
    delivery_rate: float | None = Field(description="delivered / (delivered + failed + unknown); null: none final")
    latency: Latency
    cost: list[CostPerCurrency]


class ScorecardReply(BaseModel):
    start: str = Field(alias="from", description="the first hour (from, aligned down to the hour)")
    end: str = Field(alias="to")
    rows: list[ScorecardRow] = Field(description="one per provider, account and country, sorted")

    model_config = {"populate_by_name": True}
