"""AWS End User Messaging SMS delivery events (docs/providers.md#aws-end-user-messaging-sms).

No HTTP: AWS End User Messaging SMS puts a ``Text Message Delivery Status Updated`` event
(``source: aws.sms-voice``) on the account's default EventBridge bus for every status of
every SMS it sends, with no configuration set needed. An EventBridge rule with
:data:`PATTERN` delivers them to the events function, which applies each through the same
store path as a callback. The events name no account of the hub's: the deployment does
(template parameter ``EventsAccount``).

``detail`` fields: ``eventType`` (``TEXT_DELIVERED`` …, the raw word kept), ``messageStatus``,
``isFinal``, ``messageId`` (the id SendTextMessage returned: one per message, not per part),
``eventTimestamp`` (Unix ms: the provider's time), ``totalMessageParts``,
``totalMessagePrice`` and ``totalCarrierFee`` (JSON numbers; US dollars), ``mcc``/``mnc``,
``carrierName``, ``isoCountryCode``, ``originationPhoneNumber`` and more, kept as given.

``TEXT_SUCCESSFUL`` (accepted by the carrier) comes with ``isFinal: true`` ("True if this is
the final status of the message", AWS's event reference) where the destination gives no
handset receipt, yet can be followed by ``TEXT_DELIVERED`` where it does (AWS's own
examples). So it is stored as ``SENT``, settled: out of the pending index, never closed
UNKNOWN by the no-receipt rule, and still replaced by a later DELIVERED or failure. Without
``isFinal: true`` it is PENDING. A failure word with ``isFinal: false`` is transient (the
carrier retries): PENDING too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dlrhub.domain.countries import country_of_mcc, iso_country
from dlrhub.domain.inputs import InvalidInput, reason_of
from dlrhub.domain.report import Cost, Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.domain.times import from_epoch_ms
from dlrhub.providers.contract import Events, Provider

NAME = "awseum"
SOURCE = "aws.sms-voice"
DETAIL_TYPE = "Text Message Delivery Status Updated"
#: The EventBridge rule's pattern (template.yaml's EventsInFunction carries the same: a test checks).
PATTERN: dict[str, Any] = {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
#: AWS's spend metrics are "in US Dollars"; the event fields name no currency.
CURRENCY = "USD"

#: ``eventType`` without ``TEXT_`` (= ``messageStatus``) and the hub's status when final.
WORDS: dict[str, Status] = {
    "QUEUED": Status.PENDING,
    "PENDING": Status.PENDING,
    "SENT": Status.PENDING,
    "SUCCESSFUL": Status.SENT,  # accepted by the carrier, final unless DELIVERED follows
    "DELIVERED": Status.DELIVERED,
    "INVALID": Status.REJECTED,  # the destination number is not valid
    "INVALID_MESSAGE": Status.REJECTED,  # the body cannot be delivered
    "UNREACHABLE": Status.FAILED,  # the handset is off or unavailable
    "CARRIER_UNREACHABLE": Status.FAILED,  # a carrier network error
    "BLOCKED": Status.REJECTED,  # the handset or carrier blocks messages to it
    "CARRIER_BLOCKED": Status.REJECTED,  # the carrier blocked it as malicious or abusive
    "SPAM": Status.REJECTED,  # the carrier flagged it as unsolicited
    "PROTECT_BLOCKED": Status.REJECTED,  # the account's protect configuration blocked it
    "TTL_EXPIRED": Status.EXPIRED,  # the TimeToLive ran out
    "UNKNOWN": Status.UNKNOWN,  # no final carrier event (after 72 hours, too)
}

#: ``detail`` fields stored as columns of their own, not again in ``provider_details``.
COLUMNS = frozenset({"messageId", "eventType", "destinationPhoneNumber"})
MAX_DETAILS = 40
_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_WORD = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def map_event(word: str, is_final: bool | None) -> Status:
    """The word's status, but PENDING while AWS says more is to come (``isFinal`` false) for
    any but DELIVERED, and SENT only when AWS says it is final; an undocumented word is
    UNKNOWN when final, else PENDING."""
    key = word.removeprefix("TEXT_")
    status = WORDS.get(key, Status.UNKNOWN)
    if status is Status.DELIVERED:
        return status
    if status is Status.SENT and is_final is not True:
        return Status.PENDING
    if is_final is False or (key not in WORDS and not is_final):
        return Status.PENDING
    return status


def _number(detail: Mapping[str, Any], name: str) -> Decimal | None:
    value = detail.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{name} must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{name} must be a number") from None
    if not number.is_finite() or abs(number) >= 10**9:
        raise InvalidInput(f"{name} must be a number")
    return number


def cost_of(detail: Mapping[str, Any]) -> Cost | None:
    """``totalMessagePrice`` + ``totalCarrierFee`` (billed apart: message fees and carrier fees), in USD."""
    price, fee = _number(detail, "totalMessagePrice"), _number(detail, "totalCarrierFee")
    parts = detail.get("totalMessageParts")
    if parts is not None and (isinstance(parts, bool) or not isinstance(parts, int) or not 0 <= parts <= 1000):
        raise InvalidInput("totalMessageParts must be a whole number of parts")
    if price is None and fee is None:
        return None
    amount = (price or Decimal(0)) + (fee or Decimal(0))
    return Cost(amount=format(amount, "f"), currency=CURRENCY, parts=parts)


def country_of(detail: Mapping[str, Any]) -> str | None:
    """``isoCountryCode`` (the destination's country), else the country of ``mcc``; None when neither says."""
    iso, mcc = detail.get("isoCountryCode"), detail.get("mcc")
    found = iso_country(iso) if isinstance(iso, str) else None
    if found is None and isinstance(mcc, str | int) and not isinstance(mcc, bool):
        found = country_of_mcc(str(mcc))
    return found


def _kept(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def details_of(event: Mapping[str, Any], detail: Mapping[str, Any]) -> dict[str, str]:
    """Every ``detail`` field but the columns, as given (objects as JSON text); and the event's id and region."""
    kept = {name: _kept(value)[:256] for name, value in sorted(detail.items()) if name not in COLUMNS}
    for name in ("id", "region", "account"):
        if isinstance(event.get(name), str):
            kept[f"event.{name}"] = event[name][:64]
    return dict(list(kept.items())[:MAX_DETAILS])


def parse_event(event: Mapping[str, Any], account: str, received_at: datetime) -> StatusReport:
    """One ``Text Message Delivery Status Updated`` event as a report; InvalidInput says what is wrong."""
    if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
        raise InvalidInput(f"not a {DETAIL_TYPE!r} event of {SOURCE}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidInput("detail must be an object")
    message_id = detail.get("messageId")
    if not isinstance(message_id, str) or not _ID.match(message_id):
        raise InvalidInput("detail.messageId is missing or not an id")
    word = detail.get("eventType") or detail.get("messageStatus")
    if not isinstance(word, str) or not _WORD.match(word):
        raise InvalidInput("detail.eventType is missing or not a word such as TEXT_DELIVERED")
    is_final = detail.get("isFinal")
    if is_final is not None and not isinstance(is_final, bool):
        raise InvalidInput("detail.isFinal must be true or false")
    stamp = detail.get("eventTimestamp")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 < stamp < 10**14):
        raise InvalidInput("detail.eventTimestamp must be Unix milliseconds")
    destination = detail.get("destinationPhoneNumber")
    try:
        return StatusReport(
            provider=NAME,
            account=account,
            message_id=message_id,
            status=map_event(word, is_final),
            raw_status=word,
            provider_time=from_epoch_ms(stamp) if stamp else None,
            received_at=received_at,
            source=Source.EVENT,
            destination=destination if isinstance(destination, str) and len(destination) <= 32 else None,
            details=details_of(event, detail),
            cost=cost_of(detail),
            country=country_of(detail),
        )
    except InvalidInput:
        raise
    except ValueError as error:
        raise InvalidInput(reason_of(error)) from None


PROVIDER = Provider(
    name=NAME,
    title="AWS End User Messaging SMS",
    summary="delivery events on the default EventBridge bus (no HTTP)",
    events=Events(
        PATTERN,
        parse_event,
        sends=f"`{DETAIL_TYPE}` events (`source: {SOURCE}`) on the default bus, to the events function",
        answers="nothing (an EventBridge target); a malformed event is logged and dropped",
    ),
    docs="aws-end-user-messaging-sms",
)
