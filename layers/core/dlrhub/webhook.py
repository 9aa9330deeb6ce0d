"""Receiving a provider callback: authenticate, parse, store, acknowledge."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from dlrhub.accounts import AccountConfig, AccountDirectory
from dlrhub.providers import webhook_provider
from dlrhub.store import MessageStore, Outcome
from dlrhub.timefmt import utc_now
from dlrhub.webhook_io import InvalidCallback, WebhookReply, WebhookRequest

logger = Logger(child=True)

_ACCOUNT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
#: Compared against when the account is unknown, so both paths do the same work.
_NO_ACCOUNT = AccountConfig(webhook_secret="-" * 43)


class WebhookRefused(Exception):
    """The call is refused before anything is stored; ``reason`` is safe to show."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


@dataclass(frozen=True)
class WebhookOutcome:
    reply: WebhookReply
    stored: int
    ignored: int


class WebhookService:
    def __init__(
        self, accounts: AccountDirectory, store: MessageStore, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._clock = clock

    def receive(self, provider_name: str, account: str, secret: str, request: WebhookRequest) -> WebhookOutcome:
        provider = webhook_provider(provider_name)
        if provider is None:
            raise WebhookRefused(404, f"no provider named {provider_name[:32]!r}")
        if request.method not in provider.webhook_methods:
            raise WebhookRefused(405, f"{provider.name} callbacks use {', '.join(sorted(provider.webhook_methods))}")
        config = self._accounts.get(provider.name, account) if _ACCOUNT.match(account) else None
        if not (config or _NO_ACCOUNT).webhook_secret_matches(secret) or config is None:
            logger.warning("callback refused: unknown account or wrong secret", provider=provider.name)
            raise WebhookRefused(403, "unknown account or wrong secret")
        try:
            reports = provider.parse_callback(request, account, self._clock())
        except InvalidCallback as error:
            logger.warning("callback rejected", provider=provider.name, account=account, reason=str(error))
            raise WebhookRefused(400, str(error)) from None
        results = [self._store.apply(report) for report in reports]
        for report, result in zip(reports, results, strict=True):
            logger.info(
                "report " + result.outcome.value,
                provider=report.provider,
                account=report.account,
                message_id=report.message_id,
                status=report.status.value,
                raw_status=report.raw_status,
                stored_status=result.stored_status.value if result.stored_status else None,
            )
        stored = sum(result.outcome is Outcome.APPLIED for result in results)
        return WebhookOutcome(provider.acknowledge(reports, results), stored, len(results) - stored)
