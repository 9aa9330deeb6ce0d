"""What a provider module offers the hub."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Protocol

from dlrhub.models import StatusReport
from dlrhub.store import ApplyResult
from dlrhub.webhook_io import WebhookReply, WebhookRequest


class WebhookProvider(Protocol):
    """A provider that pushes delivery reports to the hub."""

    name: ClassVar[str]
    webhook_methods: ClassVar[frozenset[str]]

    def parse_callback(self, request: WebhookRequest, account: str, received_at: datetime) -> list[StatusReport]:
        """The reports in one call; raises InvalidCallback with the reason."""
        ...

    def acknowledge(self, reports: Sequence[StatusReport], results: Sequence[ApplyResult]) -> WebhookReply:
        """The reply the provider expects once every report is stored."""
        ...
