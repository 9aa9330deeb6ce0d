"""Webcom Mobi (docs/providers.md#webcom-mobi).

Push: a POST of a raw JSON array ``[{"id_sms":3234,"time":"2011-01-01 12:57:46","state":"deliver"}]``.
The reply names the ids taken, ``[{"id_sms":3234}]``; an id left out is sent again (5
attempts), so an item that could not be stored is left out, and so is a malformed one
(logged with the reason). No signing: the URL carries the secret.

Times carry no zone in the docs; the platform is Russian, so they are read as UTC+03:00
unless the account's ``utc_offset`` says otherwise (e.g. ``"+00:00"``).

Polled by id (``json/state.php``, or the GET ``sendsms.php``) with :class:`WebcomApi`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Self
from urllib.parse import parse_qsl

from pydantic import Field, SecretStr, StringConstraints, model_validator

from dlrhub.domain.inputs import (
    InvalidInput,
    ParsedCallback,
    WebhookReply,
    WebhookRequest,
    parse_items,
    reason_of,
)
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.providers.contract import (
    AccountMisconfigured,
    BaseUrl,
    Credentials,
    Http,
    PollById,
    Provider,
    ProviderError,
    Webhook,
    WebhookCredentials,
    expect_json,
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

_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_ID = re.compile(r"[0-9]{1,20}")


def map_state(word: str) -> Status:
    """A word the docs do not list stays PENDING (raw word kept): never a guessed final status."""
    return STATES.get(word, Status.PENDING)


UtcOffset = Annotated[str, StringConstraints(pattern=r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$")]


def zone_of(offset: str) -> timezone:
    """``+03:00`` -> the fixed zone (the credentials models check the form)."""
    found = _OFFSET.fullmatch(offset)
    if not found:
        raise ValueError("utc_offset must look like +03:00")
    sign, hours, minutes = found.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


class WebcomWebhook(WebhookCredentials):
    utc_offset: UtcOffset = Field(default=DEFAULT_UTC_OFFSET, description="zone of Webcom's times")


class WebcomApi(Credentials):
    """The account keys for status queries: login and password, or a token."""

    base_url: BaseUrl = Field(description="http://lk.mysmpp.ru")
    login: str | None = Field(default=None, min_length=1)
    password: SecretStr | None = Field(default=None, min_length=1)
    token: SecretStr | None = Field(default=None, min_length=1, description="instead of login and password")
    query: Literal["json", "get"] = Field(default="json", description="json/state.php or GET sendsms.php")
    utc_offset: UtcOffset = Field(default=DEFAULT_UTC_OFFSET, description="zone of Webcom's times")

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> Self:
        if self.token is None and (self.login is None or self.password is None):
            raise ValueError("needs login and password, or token")
        return self


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
    if isinstance(value, bool) or not isinstance(value, int | str) or not _ID.fullmatch(str(value)):
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


def parse_callback(
    request: WebhookRequest, account: str, credentials: WebcomWebhook, received_at: datetime
) -> ParsedCallback:
    """A JSON array of ``{"id_sms","time","state"}``: each item on its own."""
    items = request.json()
    if not isinstance(items, list):
        raise InvalidInput("the body must be a JSON array of status objects")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"at most {MAX_ITEMS} items per call")
    zone = zone_of(credentials.utc_offset)
    return parse_items(items, lambda item: report_from(item, account, zone, received_at, Source.WEBHOOK), "id_sms")


def acknowledge(parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
    taken = [{"id_sms": ref} for ref, ok in zip(parsed.refs, stored, strict=True) if ok]
    return WebhookReply(200, json.dumps(taken), "application/json")


#: Accepted shapes of the undocumented ``sendsms.php`` status reply (see parse_get_reply).
_FORM_STATE = re.compile(r"(?:^|[&;\s])state=([a-z_]+)")


def parse_get_reply(text: str) -> dict[str, Any]:
    """The GET ``sendsms.php?smsid=`` reply, whose format the docs do not show.

    Accepted: a JSON object with ``state`` (and ``time``), a JSON array of one such
    object, ``state=deliver&time=...`` pairs (form-encoded, ``&`` or ``;`` between them),
    or the bare state word. Anything else is a retryable ProviderError, never a status.
    """
    body = text.strip()
    if body.startswith(("{", "[")):
        try:
            parsed = json.loads(body)
        except json.JSONDecodeError:
            raise ProviderError("webcom sendsms.php: unreadable JSON reply") from None
        if isinstance(parsed, list) and len(parsed) == 1:
            parsed = parsed[0]
        if isinstance(parsed, dict) and isinstance(parsed.get("state"), str) and parsed["state"] in STATES:
            return parsed
        raise ProviderError("webcom sendsms.php: JSON reply without a known state")
    found = _FORM_STATE.search(body)
    if found and found.group(1) in STATES:
        # Pairs are split at & ; or line ends only: the time itself holds a space.
        pairs = dict(parse_qsl(re.sub(r"[;\r\n]+", "&", body), keep_blank_values=True))
        return {"state": found.group(1), "time": pairs.get("time", "").strip()}
    if body in STATES:
        return {"state": body, "time": ""}
    raise ProviderError("webcom sendsms.php: reply not understood")


class WebcomClient:
    """Status queries, one ``id_sms`` a request (the docs show one)."""

    def __init__(self, account: str, credentials: WebcomApi, http: Http, *, now: Any = None) -> None:
        self.account = account
        self._base = credentials.base_url.rstrip("/")
        self._token = credentials.token.get_secret_value() if credentials.token else ""
        self._login = credentials.login or ""
        self._password = credentials.password.get_secret_value() if credentials.password else ""
        self._mode = credentials.query
        self._zone = zone_of(credentials.utc_offset)
        self._http = http
        self._now = now or (lambda: datetime.now(UTC))

    def query(self, message_ids: Sequence[str]) -> list[StatusReport]:
        """One request per id; an id that is not a number cannot be asked about (left pending)."""
        asked = [mid for mid in message_ids if _ID.fullmatch(mid)]
        return [report for mid in asked if (report := self._query_one(mid)) is not None]

    def _query_one(self, message_id: str) -> StatusReport | None:
        item = self._get_state(message_id) if self._mode == "get" else self._json_state(message_id)
        item = {**item, "id_sms": message_id}
        try:
            report = report_from(item, self.account, self._zone, self._now(), Source.POLL)
        except ValueError as error:
            raise ProviderError(f"webcom status reply not understood: {reason_of(error)}") from None
        return None if report.status is Status.PENDING and report.raw_status == "send" else report

    def _json_state(self, message_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"id_sms": int(message_id), "detail": 0}
        body |= {"token": self._token} if self._token else {"login": self._login, "password": self._password}
        response = self._http.request(
            "POST",
            f"{self._base}/json/state.php",
            data=json.dumps(body),
            headers={"Content-type": "text/json; charset=utf-8"},
        )
        reply = expect_json(response, "webcom state.php")
        if isinstance(reply, dict) and "error" in reply:
            error = str(reply["error"])[:80]
            if "login or password" in error or "locked" in error:
                raise AccountMisconfigured(f"webcom state.php: {error}")
            raise ProviderError(f"webcom state.php: {error}")
        if not isinstance(reply, list) or not reply or not isinstance(reply[0], dict):
            raise ProviderError("webcom state.php: reply is not a list of states")
        return reply[0]

    def _get_state(self, message_id: str) -> dict[str, Any]:
        params = {"smsid": message_id}
        params |= {"token": self._token} if self._token else {"user": self._login, "pwd": self._password}
        response = self._http.request("GET", f"{self._base}/sendsms.php", params=params)
        if response.status_code != 200:
            raise ProviderError(f"webcom sendsms.php: HTTP {response.status_code}")
        return parse_get_reply(response.text)


PROVIDER = Provider(
    name=NAME,
    title="Webcom Mobi",
    summary="JSON webhook, status query by id (JSON or GET)",
    webhook=Webhook(
        WebcomWebhook,
        frozenset({"POST"}),
        parse_callback,
        acknowledge,
        acknowledges_items=True,
        sends='`POST` JSON array `[{"id_sms","time","state"}]`',
        answers='`200` and `[{"id_sms":…}]` of the ids stored; the others are sent again',
        resends_refused=True,
    ),
    poll_by_id=PollById(WebcomApi, 1, WebcomClient),
    message_id=_ID,
    message_id_words="a whole number (Webcom's id_sms)",
    docs="webcom-mobi",
)
