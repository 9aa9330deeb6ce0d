"""Receiving delivery reports that arrive as EventBridge events: find, parse, store.

The provider is the one whose rule pattern the event matches; the hub account is the
deployment's (``EventsAccount``), since such events name no account of ours. Each event
is applied through the same store path as a callback (one conditional UpdateItem), so a
second delivery of the same event, which EventBridge and Lambda allow, changes nothing.
A malformed event cannot be told "400": it is logged with the reason and dropped (it
would never succeed on a retry); a store failure raises, so Lambda retries the event and
then parks it in the function's failure queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from dlrhub.domain.inputs import matches, reason_of
from dlrhub.domain.times import utc_now
from dlrhub.providers.contract import Provider
from dlrhub.providers.registry import PROVIDERS
from dlrhub.table.messages import MessageStore

logger = Logger(child=True)

REJECTED = "rejected"


@dataclass(frozen=True)
class EventResult:
    #: ``applied``, ``ignored`` (a duplicate or a report the rules outrank) or ``rejected`` (dropped).
    outcome: str
    provider: str | None = None
    message_id: str | None = None
    status: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def provider_for(event: Any, providers: Iterable[Provider] = PROVIDERS) -> Provider | None:
    """The provider whose event pattern ``event`` matches."""
    return next((p for p in providers if p.events is not None and matches(p.events.pattern, event)), None)


class EventService:
    def __init__(
        self,
        store: MessageStore,
        account: str,
        *,
        providers: Iterable[Provider] = PROVIDERS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._account = account
        self._providers = tuple(providers)
        self._clock = clock

    def receive(self, event: Mapping[str, Any]) -> EventResult:
        """Apply one event. Raises only when storing failed (the event is worth retrying)."""
        event_id = event.get("id") if isinstance(event, Mapping) else None
        provider = provider_for(event, self._providers)
        if provider is None or provider.events is None:
            logger.warning("event dropped: no provider takes it", event_id=event_id)
            return EventResult(REJECTED, reason="no provider takes events like this one")
        try:
            report = provider.events.parse(event, self._account, self._clock())
        except ValueError as error:
            reason = reason_of(error)
            logger.warning("event dropped: malformed", provider=provider.name, event_id=event_id, reason=reason)
            return EventResult(REJECTED, provider.name, reason=reason)
        result = self._store.apply(report)
        # Per report: DEBUG, as the webhook's (a log line costs per byte).
        logger.debug("report " + result.outcome.value, **result.log_fields(report), event_id=event_id)
        return EventResult(result.outcome.value, report.provider, report.message_id, report.status.value)
