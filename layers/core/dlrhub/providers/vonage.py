"""Vonage SMS API delivery receipts (docs/providers.md#vonage).

Push: to the account's delivery-receipt URL, as the dashboard's "Webhook format" says:
``GET`` (query), ``POST`` (form) or ``POST-JSON``; all three are taken. Fields (all
text): ``messageId`` (of this message PART: a long message gets one receipt per part),
``msisdn`` (the recipient), ``to`` (the sender id), ``network-code``, ``price``,
``status``, ``scts``, ``err-code``, ``api-key``, ``message-timestamp``, ``client-ref``;
with signed webhooks also ``timestamp``, ``nonce`` and ``sig``.

Signature (Vonage "Signing messages"): every parameter but ``sig``, sorted by name, each
value with ``&`` and ``=`` replaced by ``_``, joined as ``&name=value``; then MD5 of that
text followed by the signature secret ("MD5 hash", the dashboard's default) or an HMAC
keyed with the secret (MD5, SHA-1, SHA-256, SHA-512), lower-case hex. Compared in
constant time; a signed receipt whose ``timestamp`` is older than the account's
``signature_max_age`` or more than five minutes ahead is refused (403).

Reply: ``200 OK``, for a stored receipt and for a duplicate alike: Vonage sends a receipt
again until it gets a 2xx.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, StringConstraints, model_validator

from dlrhub.domain.countries import country_of_mcc
from dlrhub.domain.inputs import (
    CallbackForbidden,
    InvalidInput,
    ParsedCallback,
    WebhookReply,
    WebhookRequest,
    fields_of,
    reason_of,
)
from dlrhub.domain.report import Cost, Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.providers.contract import Provider, Webhook, WebhookCredentials

NAME = "vonage"

STATUSES: dict[str, Status] = {
    "accepted": Status.PENDING,  # "accepted for delivery, but has not yet been delivered"
    "buffered": Status.PENDING,  # "buffered for later delivery"
    "delivered": Status.DELIVERED,
    "expired": Status.EXPIRED,
    "failed": Status.FAILED,
    "rejected": Status.REJECTED,  # "Downstream carrier refuses to deliver message"
    "unknown": Status.UNKNOWN,  # "No useful information available" (err-code non-zero)
}

Method = Literal["md5hash", "md5", "sha1", "sha256", "sha512"]
#: Seconds a signed receipt's ``timestamp`` may be ahead of the hub's clock.
FUTURE_SKEW = 300
#: Stored as columns of their own (or never: ``sig``), not in ``provider_details``.
COLUMNS = frozenset({"messageId", "msisdn", "status", "sig"})
MAX_DETAILS = 40
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9\-]{1,64}$")
_WORD = re.compile(r"^[A-Za-z_\-]{1,32}$")
_MSISDN = re.compile(r"^\+?[0-9]{1,32}$")
_PRICE = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,10})?$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def map_status(word: str) -> Status:
    """A word Vonage does not document stays PENDING (raw word kept): never a guessed final status."""
    return STATUSES.get(word, Status.PENDING)


class VonageWebhook(WebhookCredentials):
    """Callback keys: the URL secret and, for signed receipts, the signature secret and method."""

    signature_secret: SecretStr | None = Field(
        default=None, min_length=8, max_length=256, description="the account's signature secret (dashboard)"
    )
    signature_method: Method = Field(
        default="md5hash", description="md5hash (the dashboard's default), or the HMAC md5, sha1, sha256, sha512"
    )
    signature_required: bool | None = Field(
        default=None, description="refuse unsigned receipts (default: true when signature_secret is set)"
    )
    signature_max_age: int = Field(
        default=86_400, ge=60, le=259_200, description="seconds a signed receipt's timestamp may be old"
    )
    price_currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="the account's currency, for price (Vonage does not send it)"
    )

    @model_validator(mode="after")
    def _a_signature_needs_a_secret(self) -> Self:
        if self.signature_required and self.signature_secret is None:
            raise ValueError("signature_required needs signature_secret")
        return self

    @property
    def requires_signature(self) -> bool:
        return self.signature_secret is not None if self.signature_required is None else self.signature_required


def signing_text(params: Mapping[str, str]) -> str:
    """``&name=value`` for every parameter but ``sig``, sorted by name, ``&``/``=`` in values as ``_``."""
    parts = []
    for name in sorted(params):
        if name == "sig":
            continue
        value = params[name].replace("&", "_").replace("=", "_")
        parts.append(f"&{name}={value}")
    return "".join(parts)


def compute_signature(params: Mapping[str, str], secret: str, method: Method) -> str:
    """Lower-case hex: MD5 of the text and the secret ("MD5 hash"), else the HMAC of the text."""
    text = signing_text(params)
    if method == "md5hash":
        return hashlib.md5((text + secret).encode(), usedforsecurity=False).hexdigest()
    return hmac.new(secret.encode(), text.encode(), getattr(hashlib, method)).hexdigest()


def check_signature(params: Mapping[str, str], credentials: VonageWebhook, received_at: datetime) -> None:
    """CallbackForbidden unless correctly signed and fresh (or unsigned where the account allows it)."""
    offered = params.get("sig")
    if offered is None:
        if credentials.requires_signature:
            raise CallbackForbidden("the receipt is not signed (no sig): the account requires signed receipts")
        return
    if credentials.signature_secret is None:
        return  # nothing to check it with
    expected = compute_signature(params, credentials.signature_secret.get_secret_value(), credentials.signature_method)
    if not hmac.compare_digest(offered.strip().lower().encode(), expected.encode()):
        raise CallbackForbidden("sig does not match")
    timestamp = params.get("timestamp", "")
    if not _TIMESTAMP.match(timestamp):
        raise CallbackForbidden("a signed receipt needs timestamp (Unix seconds)")
    age = received_at.timestamp() - int(timestamp)
    if age > credentials.signature_max_age:
        raise CallbackForbidden("timestamp too old: a replayed receipt?")
    if age < -FUTURE_SKEW:
        raise CallbackForbidden("timestamp in the future")


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput(f"{name[:32]} must be text")


def params_of(request: WebhookRequest) -> dict[str, str]:
    """The receipt's fields: the query of a GET (or of a POST without a body), else the JSON or form body."""
    if request.method == "GET" or not request.text().strip():
        return fields_of(request.query_pairs())
    content_type = (request.header("content-type") or "").lower()
    if "json" in content_type or request.text().lstrip().startswith("{"):
        body = request.json()
        if not isinstance(body, dict):
            raise InvalidInput("the JSON body must be one receipt object")
        return {str(name): _text(str(name), value) for name, value in body.items()}
    return fields_of(request.form())


def message_time(value: str | None) -> datetime | None:
    """``message-timestamp`` ``2020-01-01 12:00:00``, read as UTC; None when absent or not like that."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_callback(
    request: WebhookRequest, account: str, credentials: VonageWebhook, received_at: datetime
) -> ParsedCallback:
    """One delivery receipt (one message part): the signature first, then ``messageId`` and ``status``."""
    params = params_of(request)
    check_signature(params, credentials, received_at)
    message_id = params.get("messageId", "")
    if not message_id:
        raise InvalidInput("messageId is missing")
    if not _MESSAGE_ID.match(message_id):
        raise InvalidInput("messageId must be 1-64 letters, digits or '-'")
    word = params.get("status", "")
    if not word:
        raise InvalidInput("status is missing")
    if not _WORD.match(word):
        raise InvalidInput("status must be a word such as delivered")
    msisdn = params.get("msisdn", "")
    price = params.get("price", "")
    details = {name[:64]: value[:256] for name, value in sorted(params.items()) if name not in COLUMNS and name.strip()}
    try:
        report = StatusReport(
            provider=NAME,
            account=account,
            message_id=message_id,
            status=map_status(word),
            raw_status=word,
            provider_time=message_time(params.get("message-timestamp")),
            received_at=received_at,
            source=Source.WEBHOOK,
            destination=msisdn if _MSISDN.match(msisdn) else None,
            details=dict(list(details.items())[:MAX_DETAILS]),
            # One receipt is one part: its own price (the account's currency; Vonage does not say).
            cost=Cost(amount=price, currency=credentials.price_currency, parts=1) if _PRICE.match(price) else None,
            # network-code is the recipient's network, MCC then MNC: its country is the destination's.
            country=country_of_mcc(params.get("network-code", "")),
        )
    except ValueError as error:
        raise InvalidInput(reason_of(error)) from None
    return ParsedCallback([report], refs=[message_id])


def acknowledge(parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
    return WebhookReply(200, "OK")


PROVIDER = Provider(
    name=NAME,
    title="Vonage",
    summary="SMS API delivery receipts (GET, form or JSON), optionally signed",
    webhook=Webhook(
        VonageWebhook,
        frozenset({"GET", "POST"}),
        parse_callback,
        acknowledge,
        sends="`GET` query, `POST` form or `POST` JSON: `messageId`, `status`, `err-code`, `price`, …;"
        " signed: `timestamp`, `nonce`, `sig`",
        answers="`200 OK` (duplicates too); `403` for a wrong, missing (where required) or stale signature",
        resends_refused=True,
    ),
    docs="vonage",
)
