"""A sample event in events/ and what the hub must make of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """A sample event in ``events/`` and what the hub must make of it (checked by the tests).

    ``webhook_{provider}_*.json`` are API Gateway events for the webhook function;
    ``eventbridge_{provider}_*.json`` are EventBridge events for the events function, where
    200 means applied (stored, or a duplicate the rules ignore) and 400 dropped as malformed.
    """

    event: str
    status_code: int
    #: message id -> (status, raw word, destination) stored; every other id stays unstored.
    stored: Mapping[str, tuple[str, str, str | None]] = field(default_factory=dict)
    #: ids the event carries that must not be stored (bad items).
    not_stored: tuple[str, ...] = ()
    #: The acknowledged ids, in order, where the reply lists them.
    acknowledged: tuple[int | str, ...] | None = None
    #: Words a refused call's reply must contain.
    reason: str = ""
    #: Phone numbers and credentials the event carries beyond ``stored``: never to be logged.
    private: tuple[str, ...] = ()
    #: The reply body of a 200 that lists no ids (``acknowledged`` None).
    body: str = "OK"

    @property
    def is_webhook(self) -> bool:
        return self.event.startswith("webhook_")
