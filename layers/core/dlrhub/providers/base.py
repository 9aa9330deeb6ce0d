"""What a provider module offers the hub."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Protocol

from dlrhub.accounts import AccountConfig
from dlrhub.webhook_io import ParsedCallback, WebhookReply, WebhookRequest


class WebhookProvider(Protocol):
    """A provider that pushes delivery reports to the hub."""

    name: ClassVar[str]
    webhook_methods: ClassVar[frozenset[str]]
    #: True when the provider's acknowledgement names each stored item, so one item that
    #: could not be stored is left out (and sent again) rather than failing the call.
    acknowledges_items: ClassVar[bool]

    def parse_callback(
        self, request: WebhookRequest, account: str, config: AccountConfig, received_at: datetime
    ) -> ParsedCallback:
        """The reports in one call. Raises InvalidCallback (400) or CallbackForbidden (403)."""
        ...

    def acknowledge(self, parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
        """The reply once the reports are applied; ``stored[i]`` is False where report i failed."""
        ...
