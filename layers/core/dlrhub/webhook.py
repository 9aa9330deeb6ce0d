"""Receiving a provider callback: authenticate, parse, store, acknowledge."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from dlrhub.accounts import AccountConfig, AccountDirectory
from dlrhub.models import StatusReport
from dlrhub.providers import webhook_provider
from dlrhub.providers.base import WebhookProvider
from dlrhub.store import MessageStore, Outcome
from dlrhub.timefmt import utc_now
from dlrhub.webhook_io import CallbackForbidden, InvalidCallback, ParsedCallback, WebhookReply, WebhookRequest

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
    rejected: int
    failed: int


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
        config = self._authenticate(provider, account, secret)
        parsed = self._parse(provider, request, account, config)
        stored = [self._apply(provider, report) for report in parsed.reports]
        applied = sum(result is Outcome.APPLIED for result in stored)
        ignored = sum(result is Outcome.IGNORED for result in stored)
        return WebhookOutcome(
            reply=provider.acknowledge(parsed, [result is not None for result in stored]),
            stored=applied,
            ignored=ignored,
            rejected=len(parsed.rejected),
            failed=stored.count(None),
        )

    def _authenticate(self, provider: WebhookProvider, account: str, secret: str) -> AccountConfig:
        config = self._accounts.get(provider.name, account) if _ACCOUNT.match(account) else None
        matches = (config or _NO_ACCOUNT).webhook_secret_matches(secret)
        if config is None or not matches:
            logger.warning("callback refused: unknown account or wrong secret", provider=provider.name)
            raise WebhookRefused(403, "unknown account or wrong secret")
        return config

    def _parse(
        self, provider: WebhookProvider, request: WebhookRequest, account: str, config: AccountConfig
    ) -> ParsedCallback:
        try:
            parsed = provider.parse_callback(request, account, config, self._clock())
        except CallbackForbidden as error:
            logger.warning("callback refused", provider=provider.name, account=account, reason=str(error))
            raise WebhookRefused(403, str(error)) from None
        except InvalidCallback as error:
            logger.warning("callback rejected", provider=provider.name, account=account, reason=str(error))
            raise WebhookRefused(400, str(error)) from None
        for item in parsed.rejected:
            logger.warning(
                "callback item rejected",
                provider=provider.name,
                account=account,
                index=item.index,
                ref=item.ref,
                reason=item.reason,
            )
        return parsed

    def _apply(self, provider: WebhookProvider, report: StatusReport) -> Outcome | None:
        """The outcome, or None when storing failed and the provider will send the item again."""
        try:
            result = self._store.apply(report)
        except Exception:
            if not provider.acknowledges_items:
                raise
            logger.exception("report not stored; left out of the acknowledgement", provider=provider.name)
            return None
        logger.info(
            "report " + result.outcome.value,
            provider=report.provider,
            account=report.account,
            message_id=report.message_id,
            status=report.status.value,
            raw_status=report.raw_status,
            stored_status=result.stored_status.value if result.stored_status else None,
        )
        return result.outcome
