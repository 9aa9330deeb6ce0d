"""Receiving a provider callback: authenticate, parse, store, acknowledge.

A call with many reports (a Webcom array holds up to 1,000) is stored by
:data:`WRITERS` writes in parallel, and no write starts once less than
:data:`RESERVE` seconds of the function's time are left: a report not stored is left out
of an itemised acknowledgement (the provider sends it again), or fails the call (503).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from dlrhub.adapters.secrets import AccountDirectory
from dlrhub.domain.inputs import CallbackForbidden, InvalidInput, ParsedCallback, WebhookReply, WebhookRequest
from dlrhub.domain.report import StatusReport
from dlrhub.domain.times import utc_now
from dlrhub.providers.contract import Capability, Webhook, WebhookCredentials
from dlrhub.providers.registry import provider_named
from dlrhub.table.messages import MessageStore, Outcome

logger = Logger(child=True)

_ACCOUNT = re.compile(r"[A-Za-z0-9_\-]{1,64}")
#: Compared against when the account is unknown, so both paths do the same work.
_NO_ACCOUNT = WebhookCredentials(webhook_secret="-" * 43)
#: Writes in flight at once for a call with many reports.
WRITERS = 16
#: Seconds of function time kept for answering: no write starts with less left.
RESERVE = 2.0


class OutOfTime(Exception):
    """Too little of the function's time was left to start this report's write."""


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
        self._writers: ThreadPoolExecutor | None = None

    def receive(
        self,
        provider_name: str,
        account: str,
        secret: str,
        request: WebhookRequest,
        remaining: Callable[[], float] = lambda: float("inf"),
    ) -> WebhookOutcome:
        """``remaining``: seconds of the function's time left (the Lambda context's)."""
        provider = provider_named(provider_name)
        if provider is None or provider.webhook is None:
            raise WebhookRefused(404, f"no provider named {provider_name[:32]!r} takes callbacks")
        webhook = provider.webhook
        if request.method not in webhook.methods:
            raise WebhookRefused(405, f"{provider.name} callbacks use {', '.join(sorted(webhook.methods))}")
        credentials = self._authenticate(provider.name, account, secret)
        parsed = self._parse(provider.name, webhook, request, account, credentials)
        stored = self._apply_all(webhook, parsed.reports, remaining)
        applied = sum(result is Outcome.APPLIED for result in stored)
        ignored = sum(result is Outcome.IGNORED for result in stored)
        return WebhookOutcome(
            reply=webhook.acknowledge(parsed, [result is not None for result in stored]),
            stored=applied,
            ignored=ignored,
            rejected=len(parsed.rejected),
            failed=stored.count(None),
        )

    def _authenticate(self, provider: str, account: str, secret: str) -> WebhookCredentials:
        """The account's webhook keys, once the secret in the URL matched one of them."""
        found = self._accounts.get(provider, account) if _ACCOUNT.fullmatch(account) else None
        credentials: WebhookCredentials | None = found.on(Capability.WEBHOOK) if found else None
        matches = (credentials or _NO_ACCOUNT).secret_matches(secret)
        if credentials is not None and matches:
            return credentials
        if found is not None and found.problem(Capability.WEBHOOK):
            # Told to the operator once per cache period (log and metric); the provider retries.
            raise WebhookRefused(503, "the account's configuration is being fixed; try again later")
        logger.warning("callback refused: unknown account or wrong secret", provider=provider)
        raise WebhookRefused(403, "unknown account or wrong secret")

    def _parse(
        self, provider: str, webhook: Webhook, request: WebhookRequest, account: str, credentials: WebhookCredentials
    ) -> ParsedCallback:
        try:
            parsed = webhook.parse(request, account, credentials, self._clock())
        except CallbackForbidden as error:
            logger.warning("callback refused", provider=provider, account=account, reason=str(error))
            raise WebhookRefused(403, str(error)) from None
        except InvalidInput as error:
            logger.warning("callback rejected", provider=provider, account=account, reason=str(error))
            raise WebhookRefused(400, str(error)) from None
        for item in parsed.rejected:
            logger.warning(
                "callback item rejected",
                provider=provider,
                account=account,
                index=item.index,
                ref=item.ref,
                reason=item.reason,
            )
        return parsed

    def _apply_all(
        self, webhook: Webhook, reports: list[StatusReport], remaining: Callable[[], float]
    ) -> list[Outcome | None]:
        if len(reports) <= 1:
            return [self._apply(webhook, report, remaining) for report in reports]
        if self._writers is None:
            self._writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="write")
        return list(self._writers.map(lambda report: self._apply(webhook, report, remaining), reports))

    def _apply(self, webhook: Webhook, report: StatusReport, remaining: Callable[[], float]) -> Outcome | None:
        """The outcome, or None when storing failed and the provider will send the item again."""
        try:
            if remaining() < RESERVE:
                raise OutOfTime("too little time left to store this report")
            result = self._store.apply(report)
        except Exception:
            if not webhook.acknowledges_items:
                raise
            logger.exception("report not stored; left out of the acknowledgement", provider=report.provider)
            return None
        logger.debug("report " + result.outcome.value, **result.log_fields(report))
        return result.outcome
