"""Twilio Programmable Messaging status callbacks (docs/providers.md#twilio).

Push: a form-encoded ``POST`` to the message's ``StatusCallback`` URL with ``MessageSid``,
``MessageStatus``, ``ErrorCode`` (on failure), ``AccountSid``, ``From``, ``To`` and more
(Twilio adds fields without notice: every one received is kept). No segment count comes
with it, and a price (``Price``, ``PriceUnit``) only where Twilio adds one: then it is the
cost. Each call carries ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the account's
Auth Token, of the full URL followed by every POST parameter sorted by name (name and
value, no separators). The hub checks it in constant time
against the URL it rebuilds from the API Gateway event (or the account's
``callback_url``), with and without the default port, as Twilio's own validator does.

Reply: ``200`` with an empty body ("No response content is required"). Twilio retries
only connection failures, once, by default: nothing here relies on its retries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Self
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, StringConstraints, model_validator

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

NAME = "twilio"
SIGNATURE_HEADER = "X-Twilio-Signature"

#: ``MessageStatus`` words (twilio-python ``MessageInstance.Status``) and the hub's status.
STATUSES: dict[str, Status] = {
    "accepted": Status.PENDING,  # with a Messaging Service, sender being chosen (no callback)
    "scheduled": Status.PENDING,  # scheduled send (no callback)
    "queued": Status.PENDING,
    "sending": Status.PENDING,
    "sent": Status.SENT,  # the nearest carrier took it: final where no receipt comes, else delivered follows
    "partially_delivered": Status.PENDING,  # undocumented (twilio-node#607): not a final word
    "delivered": Status.DELIVERED,
    "read": Status.READ,  # WhatsApp / RCS read receipt
    "undelivered": Status.FAILED,  # the carrier's receipt says not delivered
    "failed": Status.REJECTED,  # never left Twilio (not charged): refused by the provider
    "canceled": Status.FAILED,  # a scheduled message canceled: final, never delivered
}

#: Stored as columns of their own, not again in ``provider_details``.
COLUMNS = frozenset({"MessageSid", "MessageStatus", "To"})
MAX_DETAILS = 40
_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_WORD = re.compile(r"^[A-Za-z_\-]{1,32}$")

_PRICE = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,10})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

CallbackUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$", max_length=1024)]


def map_status(word: str) -> Status:
    """A word Twilio may add later stays PENDING (raw word kept): never a guessed final status."""
    return STATUSES.get(word, Status.PENDING)


class TwilioWebhook(WebhookCredentials):
    """Callback keys: the URL secret and, to check ``X-Twilio-Signature``, the Auth Token."""

    auth_token: SecretStr | None = Field(
        default=None, min_length=16, max_length=128, description="the Twilio account's Auth Token (signature key)"
    )
    auth_token_previous: SecretStr | None = Field(
        default=None, min_length=16, max_length=128, description="also accepted while the Auth Token is rotated"
    )
    signature_required: bool | None = Field(
        default=None, description="refuse unsigned callbacks (default: true when auth_token is set)"
    )
    callback_url: CallbackUrl | None = Field(
        default=None,
        description="the StatusCallback URL exactly as given to Twilio, without the query: only behind a custom"
        " domain or path mapping",
    )

    @model_validator(mode="after")
    def _a_signature_needs_a_token(self) -> Self:
        if self.signature_required and self.auth_token is None:
            raise ValueError("signature_required needs auth_token")
        if self.auth_token_previous is not None and self.auth_token is None:
            raise ValueError("auth_token_previous needs auth_token")
        return self

    @property
    def requires_signature(self) -> bool:
        return self.auth_token is not None if self.signature_required is None else self.signature_required

    def tokens(self) -> list[str]:
        found = [self.auth_token, self.auth_token_previous or self.auth_token]
        return [token.get_secret_value() for token in found if token is not None]


def compute_signature(url: str, params: Sequence[tuple[str, str]], token: str) -> str:
    """``base64(HMAC-SHA1(token, url + name1 + value1 + …))``, names sorted, repeats sorted and once each
    (as twilio-python's ``RequestValidator.compute_signature``)."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    text = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """The URL as called, without its port and with the scheme's default port: Twilio's
    validator accepts a signature of any of them (proxies differ in what they keep)."""
    found = [url]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return found
    host = parts.netloc.rsplit("@", 1)[-1]
    bare = host if port is None else host.rsplit(":", 1)[0]
    found.append(urlunsplit(parts._replace(netloc=bare)))
    if port is None:
        default = 443 if parts.scheme == "https" else 80
        found.append(urlunsplit(parts._replace(netloc=f"{bare}:{default}")))
    return list(dict.fromkeys(found))


def signed_url(request: WebhookRequest, credentials: TwilioWebhook) -> str:
    """The URL Twilio signed: the account's ``callback_url`` (plus the query), else the one rebuilt."""
    if credentials.callback_url:
        return credentials.callback_url + (f"?{request.raw_query}" if request.raw_query else "")
    return request.url


def check_signature(request: WebhookRequest, params: Sequence[tuple[str, str]], credentials: TwilioWebhook) -> None:
    """CallbackForbidden unless signed by one of the account's tokens (or unsigned where allowed)."""
    offered = request.header(SIGNATURE_HEADER)
    tokens = credentials.tokens()
    if offered is None:
        if credentials.requires_signature:
            raise CallbackForbidden(f"no {SIGNATURE_HEADER}: the account requires signed callbacks")
        return
    if not tokens:
        return  # nothing to check it with: the account has no auth_token
    url = signed_url(request, credentials)
    if not url:
        raise CallbackForbidden("the called URL is unknown, so the signature cannot be checked")
    # Every candidate compared, each in constant time (no early exit).
    results = [
        hmac.compare_digest(offered.strip().encode(), compute_signature(candidate, params, token).encode())
        for token in tokens
        for candidate in url_variants(url)
    ]
    if not any(results):
        raise CallbackForbidden(f"{SIGNATURE_HEADER} does not match")


def _first(fields: dict[str, str], *names: str) -> str | None:
    """The value of the first of ``names`` present (Twilio's newer name first, then the older)."""
    return next((fields[name] for name in names if name in fields), None)


def cost_of(fields: dict[str, str]) -> Cost | None:
    """``Price`` in ``PriceUnit`` where a callback carries them (a status callback usually does not: the
    price is a field of the Message resource, known once the message is billed). Twilio gives a charge
    as a negative amount (``-0.00750``); the cost is what was paid, so its sign is dropped."""
    price, unit = fields.get("Price", ""), fields.get("PriceUnit", "")
    if not _PRICE.match(price):
        return None
    return Cost(amount=price.removeprefix("-"), currency=unit if _CURRENCY.match(unit) else None)


def parse_callback(
    request: WebhookRequest, account: str, credentials: TwilioWebhook, received_at: datetime
) -> ParsedCallback:
    """One status callback: the signature first, then ``MessageSid`` and ``MessageStatus``."""
    params = request.form()
    check_signature(request, params, credentials)
    fields = fields_of(params)
    sid = _first(fields, "MessageSid", "SmsSid")
    if sid is None:
        raise InvalidInput("MessageSid is missing")
    if not _SID.match(sid):
        raise InvalidInput("MessageSid must be two capital letters and 32 hex digits (SM…, MM…)")
    word = _first(fields, "MessageStatus", "SmsStatus")
    if word is None:
        raise InvalidInput("MessageStatus is missing")
    if not _WORD.match(word):
        raise InvalidInput("MessageStatus must be a word such as delivered")
    to = fields.get("To")
    details = {name[:64]: value[:256] for name, value in sorted(fields.items()) if name not in COLUMNS and name.strip()}
    try:
        report = StatusReport(
            provider=NAME,
            account=account,
            message_id=sid,
            status=map_status(word),
            raw_status=word,
            received_at=received_at,
            source=Source.WEBHOOK,
            destination=to if to and len(to) <= 32 else None,
            details=dict(list(details.items())[:MAX_DETAILS]),
            cost=cost_of(fields),
        )
    except ValueError as error:
        raise InvalidInput(reason_of(error)) from None
    return ParsedCallback([report], refs=[sid])


def acknowledge(parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
    """Twilio: "an HTTP status code of 200 (OK). No response content is required." """
    return WebhookReply(200, "")


PROVIDER = Provider(
    name=NAME,
    title="Twilio",
    summary="signed form callbacks (X-Twilio-Signature)",
    webhook=Webhook(
        TwilioWebhook,
        frozenset({"POST"}),
        parse_callback,
        acknowledge,
        sends="`POST` form: `MessageSid`, `MessageStatus`, `ErrorCode`, … signed with `X-Twilio-Signature`",
        answers="`200`, empty body; `403` for a missing or wrong signature where required",
        resends_refused=False,
    ),
    docs="twilio",
)
