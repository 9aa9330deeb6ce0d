"""Infin8linx (docs/providers.md#infin8linx).

Push: ``GET {callback_url}?msgid=36160109669&das=628131565746&state=1``. The docs say
nothing of signing, the reply, or retries, so the URL carries the secret and the reply
is a plain ``200 OK``. ``state``: 0 no receipt yet, 1 delivered, 2 failed. The raw word
kept is the ``state`` value as sent.

Polled by id (``/sms/state``, up to 100 ids a request) and sent the monitor report
(``/sms/monitor``), both with the account keys of :class:`Infin8linxApi`.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, SecretStr

from dlrhub.domain.inputs import InvalidInput, ParsedCallback, WebhookReply, WebhookRequest, fields_of
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.providers.contract import (
    AccountMisconfigured,
    BaseUrl,
    Credentials,
    Http,
    MonitorReport,
    PollById,
    Provider,
    ProviderError,
    Required,
    Webhook,
    WebhookCredentials,
    expect_json,
)

NAME = "infin8linx"
#: The docs' limit on ``msgid`` values in one ``/sms/state`` request.
STATE_BATCH = 100
#: Codes that mean the account itself is wrong: 103 no such spid, 104 password mismatch.
ACCOUNT_CODES = frozenset({103, 104})
CLOCK_CODE = 102
BUSY_CODE = 120

STATES: dict[str, Status] = {"0": Status.PENDING, "1": Status.DELIVERED, "2": Status.FAILED}

_MSGID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
#: E.164 numbers have at most 15 digits; 20 leaves room for a 00 prefix and odd plans.
_DAS = re.compile(r"\+?[0-9]{1,20}")


def map_state(state: str) -> Status:
    try:
        return STATES[state]
    except KeyError:
        raise InvalidInput("state must be 0, 1 or 2") from None


class Infin8linxApi(Credentials):
    """The account keys for ``/sms/state`` and ``/sms/monitor``."""

    base_url: BaseUrl = Field(description="https://{domain} of the account's API")
    spid: Required = Field(description="the interface account")
    password: SecretStr = Field(min_length=1, description="its plaintext password (signed per request)")


def _required(fields: dict[str, str], name: str) -> str:
    if name not in fields:
        raise InvalidInput(f"{name} is missing")
    return fields[name]


def parse_callback(
    request: WebhookRequest, account: str, credentials: WebhookCredentials, received_at: datetime
) -> ParsedCallback:
    """``GET ?msgid=…&das=…&state=0|1|2``: one report."""
    if len(request.raw_query) > 1024:
        raise InvalidInput("query string longer than 1024 characters")
    query = fields_of(request.query_pairs())
    msgid = _required(query, "msgid")
    if not _MSGID.fullmatch(msgid):
        raise InvalidInput("msgid must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
    state = _required(query, "state")
    status = map_state(state)
    das = query.get("das")
    if das is not None and das != "" and not _DAS.fullmatch(das):
        raise InvalidInput("das must be a phone number of at most 20 digits")
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


def acknowledge(parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
    return WebhookReply(200, "OK")


def sign(spid: str, password: str, timestamp: int) -> str:
    """``pwd = md5(spid + "00000000" + password + timestamp)``, lower-case hex ("Important note 3")."""
    text = f"{spid}00000000{password}{timestamp}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class Infin8linxClient:
    """The account's side of Infin8linx's API: ``/sms/state`` and ``/sms/monitor``."""

    batch_size = STATE_BATCH

    def __init__(
        self,
        account: str,
        credentials: Infin8linxApi,
        http: Http,
        *,
        clock: Callable[[], float] = time.time,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.account = account
        self._base = credentials.base_url.rstrip("/")
        self._spid = credentials.spid
        self._password = credentials.password.get_secret_value()
        self._http = http
        self._clock = clock
        self._now = now or (lambda: datetime.fromtimestamp(clock(), tz=UTC))

    def _signed(self) -> dict[str, str]:
        """Fresh credentials per request: the provider allows ±10 s of clock difference."""
        timestamp = int(self._clock())
        return {"spid": self._spid, "pwd": sign(self._spid, self._password, timestamp), "timestamp": str(timestamp)}

    def _call(self, what: str, send: Callable[[], Any], attempts: int = 3) -> dict[str, Any]:
        """One API call, re-signed and repeated on code 102 (clock) and 120 (busy)."""
        for attempt in range(attempts):
            reply = expect_json(send(), what)
            if not isinstance(reply, dict) or "code" not in reply:
                raise ProviderError(f"{what}: reply without a code")
            code = reply.get("code")
            if code == 0:
                return reply
            if code in ACCOUNT_CODES:
                raise AccountMisconfigured(f"{what}: code {code} {str(reply.get('msg'))[:80]}", code=str(code))
            if code in (CLOCK_CODE, BUSY_CODE) and attempt + 1 < attempts:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise ProviderError(
                f"{what}: code {code} {str(reply.get('msg'))[:80]}",
                retryable=code in (CLOCK_CODE, BUSY_CODE),
                code=str(code),
            )
        raise ProviderError(f"{what}: no answer")  # pragma: no cover - the loop returns or raises

    def query(self, message_ids: Sequence[str]) -> list[StatusReport]:
        """The news about up to 100 messages: their final states. State 0 (no receipt yet) is no
        news, and no report is made of it (a poll of 100 pending ids would otherwise build 100
        reports to drop: the CPU of a run is mostly that)."""
        if not 0 < len(message_ids) <= STATE_BATCH:
            raise ValueError(f"1 to {STATE_BATCH} ids per request")

        def send() -> Any:
            params = {**self._signed(), "msgid": ",".join(message_ids)}
            return self._http.request("GET", f"{self._base}/sms/state", params=params)

        reply = self._call("infin8linx /sms/state", send)
        received = self._now()
        reports = []
        for entry in reply.get("data") or []:
            if not isinstance(entry, dict) or str(entry.get("state")) not in STATES or str(entry["state"]) == "0":
                continue
            reports.append(
                StatusReport(
                    provider=NAME,
                    account=self.account,
                    message_id=str(entry.get("msgid")),
                    status=STATES[str(entry["state"])],
                    raw_status=str(entry["state"]),
                    received_at=received,
                    source=Source.POLL,
                )
            )
        return reports

    def send_monitor(self, start: int, end: int, total: int, success: int) -> None:
        """``POST /sms/monitor`` (form-encoded): one window's counts. Raises unless code 0."""

        def send() -> Any:
            form = {"spid": self._spid, "start_time": str(start), "end_time": str(end)}
            form |= {"total": str(total), "success": str(success)}
            return self._http.request("POST", f"{self._base}/sms/monitor", data=form, idempotent=False)

        self._call("infin8linx /sms/monitor", send)


PROVIDER = Provider(
    name=NAME,
    title="Infin8linx",
    summary="GET callback, status query by id, monitor report",
    webhook=Webhook(
        WebhookCredentials,
        frozenset({"GET"}),
        parse_callback,
        acknowledge,
        sends="`GET ?msgid=…&das=…&state=0|1|2`",
        answers="`200 OK` (duplicates and late reports too)",
    ),
    poll_by_id=PollById(Infin8linxApi, STATE_BATCH, Infin8linxClient),
    monitor=MonitorReport(Infin8linxApi, Infin8linxClient),
    docs="infin8linx",
)
