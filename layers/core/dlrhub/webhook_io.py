"""What a webhook call brings in and what goes back, free of API Gateway details."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs


class InvalidCallback(ValueError):
    """The call is malformed; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    raw_query: str = ""
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)


@dataclass(frozen=True)
class WebhookReply:
    status_code: int
    body: str
    content_type: str = "text/plain; charset=utf-8"
