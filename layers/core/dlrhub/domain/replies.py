"""What the customer API answers: a stored message, a page of them, statistics, an error."""

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
