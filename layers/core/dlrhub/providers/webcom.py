"""Webcom Mobi (providers.md §3, seed 002).

Push: a POST of a raw JSON array ``[{"id_sms":3234,"time":"2011-01-01 12:57:46","state":"deliver"}]``.
The reply names the ids taken, ``[{"id_sms":3234}]``; an id left out is sent again (5
attempts), so an item that could not be stored is left out, and so is a malformed one
(logged with the reason). No signing: the URL carries the secret.

Times carry no zone in the docs; the platform is Russian, so they are read as UTC+03:00
unless the account's ``utc_offset`` says otherwise (e.g. ``"+00:00"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from dlrhub.accounts import AccountConfig
from dlrhub.models import Source, StatusReport
from dlrhub.status import Status
from dlrhub.webhook_io import (
    InvalidCallback,
    ParsedCallback,
    RejectedItem,
    WebhookReply,
    WebhookRequest,
    reason_of,
)

NAME = "webcom"
MAX_ITEMS = 1000
DEFAULT_UTC_OFFSET = "+03:00"

#: The documented words. ``partly_deliver`` ("sent, status not received") is not final.
STATES: dict[str, Status] = {
    "send": Status.PENDING,
    "partly_deliver": Status.PENDING,
    "deliver": Status.DELIVERED,
    "read": Status.READ,
    "not_deliver": Status.FAILED,
    "expired": Status.EXPIRED,
}

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_ID = re.compile(r"^[0-9]{1,20}$")


def map_state(word: str) -> Status:
    """A word the docs do not list stays PENDING (raw word kept): never a guessed final status."""
    return STATES.get(word, Status.PENDING)


def account_zone(config: AccountConfig | None) -> timezone:
    raw = str((config.model_extra or {}).get("utc_offset", DEFAULT_UTC_OFFSET)) if config else DEFAULT_UTC_OFFSET
    found = _OFFSET.match(raw)
    if not found:
        raise ValueError(f"utc_offset must look like +03:00, not {raw!r}")
    sign, hours, minutes = found.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def parse_time(value: Any, zone: timezone) -> datetime | None:
    """``"2021-04-26 15:15:03"`` in the account's zone; empty (state ``send``) is None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("time must be text like 2021-04-26 15:15:03")
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError:
        raise ValueError(f"time {value[:32]!r} is not like 2021-04-26 15:15:03") from None


def message_id_of(value: Any) -> str:
    """``id_sms`` is a number; a string of digits is taken too."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not _ID.match(str(value)):
        raise ValueError("id_sms must be a whole number")
    return str(value)


def report_from(item: Any, account: str, zone: timezone, received_at: datetime, source: Source) -> StatusReport:
    """One status object (webhook or ``state.php`` answer) as a report; ValueError says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError("each item must be an object")
    message_id = message_id_of(item.get("id_sms"))
    word = item.get("state")
    if not isinstance(word, str) or not word or len(word) > 32:
        raise ValueError("state must be a word such as deliver")
    when = item.get("time", item.get("time_change_state"))
    details = {key: str(value) for key, value in item.items() if key != "id_sms" and value is not None}
    return StatusReport(
        provider=NAME,
        account=account,
        message_id=message_id,
        status=map_state(word),
        raw_status=word,
        provider_time=parse_time(when, zone),
        received_at=received_at,
        source=source,
        details={k: v[:256] for k, v in list(details.items())[:20]},
    )


class Webcom:
    name: ClassVar[str] = NAME
    webhook_methods: ClassVar[frozenset[str]] = frozenset({"POST"})
    acknowledges_items: ClassVar[bool] = True

    def parse_callback(
        self, request: WebhookRequest, account: str, config: AccountConfig, received_at: datetime
    ) -> ParsedCallback:
        items = request.json()
        if not isinstance(items, list):
            raise InvalidCallback("the body must be a JSON array of status objects")
        if len(items) > MAX_ITEMS:
            raise InvalidCallback(f"at most {MAX_ITEMS} items per call")
        zone = account_zone(config)
        reports, refs, rejected = [], [], []
        for index, item in enumerate(items):
            ref = item.get("id_sms") if isinstance(item, dict) else None
            try:
                reports.append(report_from(item, account, zone, received_at, Source.WEBHOOK))
                refs.append(ref)
            except ValueError as error:
                rejected.append(RejectedItem(index, reason_of(error), None if ref is None else str(ref)[:32]))
        return ParsedCallback(reports, rejected, refs)

    def acknowledge(self, parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
        taken = [{"id_sms": ref} for ref, ok in zip(parsed.refs, stored, strict=True) if ok]
        return WebhookReply(200, json.dumps(taken), "application/json")
