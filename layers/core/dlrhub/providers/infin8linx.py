"""Infin8linx (providers.md §1, seed 000).

Push: ``GET {callback_url}?msgid=36160109669&das=628131565746&state=1``. The docs say
nothing of signing, the reply, or retries, so the URL carries the secret and the reply
is a plain ``200 OK``. ``state``: 0 no receipt yet, 1 delivered, 2 failed. The raw word
kept is the ``state`` value as sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from dlrhub.accounts import AccountConfig
from dlrhub.models import Source, StatusReport
from dlrhub.status import Status
from dlrhub.webhook_io import InvalidCallback, ParsedCallback, WebhookReply, WebhookRequest

NAME = "infin8linx"

STATES: dict[str, Status] = {"0": Status.PENDING, "1": Status.DELIVERED, "2": Status.FAILED}

_MSGID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_DAS = re.compile(r"^\+?[0-9]{1,32}$")


def map_state(state: str) -> Status:
    try:
        return STATES[state]
    except KeyError:
        raise InvalidCallback("state must be 0, 1 or 2") from None


def _single(query: dict[str, list[str]], name: str, *, required: bool) -> str | None:
    values = query.get(name)
    if not values:
        if required:
            raise InvalidCallback(f"{name} is missing")
        return None
    if len(values) > 1:
        raise InvalidCallback(f"{name} is given more than once")
    return values[0]


class Infin8linx:
    name: ClassVar[str] = NAME
    webhook_methods: ClassVar[frozenset[str]] = frozenset({"GET"})
    acknowledges_items: ClassVar[bool] = False

    def parse_callback(
        self, request: WebhookRequest, account: str, config: AccountConfig, received_at: datetime
    ) -> ParsedCallback:
        if len(request.raw_query) > 1024:
            raise InvalidCallback("query string longer than 1024 characters")
        query = request.query()
        msgid = _single(query, "msgid", required=True) or ""
        if not _MSGID.match(msgid):
            raise InvalidCallback("msgid must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
        state = _single(query, "state", required=True) or ""
        status = map_state(state)
        das = _single(query, "das", required=False)
        if das is not None and das != "" and not _DAS.match(das):
            raise InvalidCallback("das must be a phone number of at most 32 digits")
        report = StatusReport(
            provider=NAME,
            account=account,
            message_id=msgid,
            status=status,
            raw_status=state,
            received_at=received_at,
            source=Source.WEBHOOK,
            destination=das or None,
        )
        return ParsedCallback([report], refs=[msgid])

    def acknowledge(self, parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
        return WebhookReply(200, "OK")
