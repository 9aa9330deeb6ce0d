"""InnoPaaS (docs/providers.md#innopaas).

Push: a POST of one JSON object per report (an array is taken too), with the receiving
credentials ``receiver``/``pswd`` configured at InnoPaaS (may be empty). They are
compared in constant time with the account's ``receiver``/``pswd``; empty matches only an
account configured empty. ``DELIVRD`` is success, every other word a failure: the known
ones are mapped, an unknown one is FAILED with the word kept. Every documented field
except the credentials is kept as given. Reply: 200 ``OK`` (older docs ask for that body).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import Field, SecretStr, field_validator

from dlrhub.domain.countries import country_of_mcc
from dlrhub.domain.inputs import (
    CallbackForbidden,
    InvalidInput,
    ParsedCallback,
    WebhookReply,
    WebhookRequest,
    parse_items,
    reason_of,
)
from dlrhub.domain.report import Cost, Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.domain.times import from_epoch_ms
from dlrhub.providers.contract import (
    AccountMisconfigured,
    BaseUrl,
    Credentials,
    Http,
    Provider,
    ProviderError,
    Pull,
    Required,
    Webhook,
    WebhookCredentials,
    expect_json,
    same_text,
)

logger = Logger(child=True)

NAME = "innopaas"
MAX_ITEMS = 100

STATUSES: dict[str, Status] = {
    "DELIVRD": Status.DELIVERED,
    "UNDELIV": Status.FAILED,
    "DELETED": Status.FAILED,
    "EXPIRED": Status.EXPIRED,
    "REJECTD": Status.REJECTED,
    "MBBLACK": Status.REJECTED,  # number blacklisted
    "SM11": Status.REJECTED,  # number format wrong
    "SM12": Status.REJECTED,  # number format wrong
    "UNKNOWN": Status.UNKNOWN,
}

#: Kept as given in the stored item's provider_details (credentials never are).
KEPT_FIELDS = (
    "batchSeq",
    "uid",
    "reportTime",
    "notifyTime",
    "requestTime",
    "currency",
    "smsNum",
    "unitPrice",
    "fee",
    "accessNumber",
    "countryNumber",
    "regionCode",
    "mnoName",
    "mcc",
    "mnc",
)
_MS = re.compile(r"[0-9]{10,16}")


def map_status(word: str) -> Status:
    """``DELIVRD`` is the one success; any other word is a failure of some kind."""
    return STATUSES.get(word, Status.FAILED)


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be text")
    return str(value)


class InnoPaaSWebhook(WebhookCredentials):
    """The receiving credentials configured at InnoPaaS (empty only where empty there)."""

    receiver: str = Field(default="", max_length=256, description="as configured at InnoPaaS")
    pswd: SecretStr = Field(default=SecretStr(""), max_length=256, description="as configured at InnoPaaS")

    @field_validator("receiver", "pswd", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: Any) -> Any:
        """InnoPaaS sends them as text; a secret may hold them as JSON numbers."""
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class InnoPaaSPull(Credentials):
    """Pull is off unless InnoPaaS support enabled it; these keys switch it on here."""

    pull_url: BaseUrl = Field(description="node, e.g. https://intapi.253.com")
    api_account: Required
    api_password: SecretStr = Field(min_length=1)


def credentials_match(item: dict[str, Any], credentials: InnoPaaSWebhook) -> bool:
    expected = (credentials.receiver, credentials.pswd.get_secret_value())
    try:
        offered = (_text(item, "receiver"), _text(item, "pswd"))
    except ValueError:  # an object or list where text belongs matches nothing (403, not a 503 retried forever)
        return False
    # Both compared every time (no early exit), each in constant time.
    results = [same_text(o, e) for o, e in zip(offered, expected, strict=True)]
    return all(results)


def cost_of(item: dict[str, Any]) -> Cost | None:
    fee = _text(item, "fee")
    if not fee:
        return None
    parts = _text(item, "smsNum")
    return Cost(amount=fee, currency=_text(item, "currency") or None, parts=int(parts) if parts.isdigit() else None)


def report_from(item: Any, account: str, received_at: datetime, source: Source) -> StatusReport:
    if not isinstance(item, dict):
        raise ValueError("each report must be a JSON object")
    msgid = _text(item, "msgid")
    if not msgid:
        raise ValueError("msgid is missing")
    word = _text(item, "status")
    if not word or len(word) > 32:
        raise ValueError("status is missing")
    report_time = _text(item, "reportTime")
    if report_time and not _MS.fullmatch(report_time):
        raise ValueError("reportTime must be a millisecond timestamp")
    details = {name: _text(item, name)[:256] for name in KEPT_FIELDS if name in item}
    return StatusReport(
        provider=NAME,
        account=account,
        message_id=msgid,
        status=map_status(word),
        raw_status=word,
        provider_time=from_epoch_ms(report_time) if report_time else None,
        received_at=received_at,
        source=source,
        destination=_text(item, "mobile") or None,
        details=details,
        cost=cost_of(item),
        country=country_of_mcc(_text(item, "mcc")),
    )


def parse_callback(
    request: WebhookRequest, account: str, credentials: InnoPaaSWebhook, received_at: datetime
) -> ParsedCallback:
    """One report object, or an array of them, each carrying ``receiver``/``pswd``."""
    body = request.json()
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_ITEMS:
        raise InvalidInput(f"expected one report object or an array of 1 to {MAX_ITEMS}")
    if any(isinstance(item, dict) and not credentials_match(item, credentials) for item in items):
        raise CallbackForbidden("receiver/pswd do not match the account")
    parsed = parse_items(items, lambda item: report_from(item, account, received_at, Source.WEBHOOK), "msgid")
    if not parsed.reports:  # nothing readable: 400 with the reason, nothing stored
        reasons = "; ".join(f"item {r.index}: {r.reason}" for r in parsed.rejected) if len(items) > 1 else ""
        raise InvalidInput(reasons or parsed.rejected[0].reason)
    return parsed


def acknowledge(parsed: ParsedCallback, stored: Sequence[bool]) -> WebhookReply:
    """200 once every readable report is stored. An array's malformed items are logged and
    counted (ReportsRejected) by the hub, and not asked for again: InnoPaaS would resend them
    unchanged, and they would be refused again."""
    return WebhookReply(200, "OK")


PULL_COUNT = 100


class InnoPaaSPuller:
    """``POST {node}/pull/report`` for accounts that have pull enabled (off by default).

    Pulled records are deleted at InnoPaaS, so the request is never retried once sent and
    the caller stores each batch before asking for the next.
    """

    def __init__(self, account: str, credentials: InnoPaaSPull, http: Http, *, now: Any = None) -> None:
        self.account = account
        self._url = credentials.pull_url.rstrip("/") + "/pull/report"
        self._body = {"account": credentials.api_account, "password": credentials.api_password.get_secret_value()}
        self._http = http
        self._now = now or (lambda: datetime.now(UTC))

    def pull(self) -> list[StatusReport]:
        """One batch (up to 100); empty when nothing is waiting."""
        response = self._http.request("POST", self._url, json={**self._body, "count": PULL_COUNT}, idempotent=False)
        reply = expect_json(response, "innopaas pull/report")
        if not isinstance(reply, dict):
            raise ProviderError("innopaas pull/report: reply is not an object")
        code = str(reply.get("code"))
        if code != "0":
            error = str(reply.get("error") or "")[:80]
            if "password" in error.lower() or "account" in error.lower():
                raise AccountMisconfigured(f"innopaas pull/report: code {code} {error}", code=code)
            raise ProviderError(f"innopaas pull/report: code {code} {error}", code=code)
        received = self._now()
        reports = []
        for item in reply.get("result") or []:
            try:
                reports.append(report_from(item, self.account, received, Source.POLL))
            except ValueError as error:  # already deleted at InnoPaaS: it cannot be asked for again
                logger.warning("pulled record not understood; dropped", account=self.account, reason=reason_of(error))
        return reports


PROVIDER = Provider(
    name=NAME,
    title="InnoPaaS",
    summary="JSON push with receiving credentials, optional pull",
    webhook=Webhook(
        InnoPaaSWebhook,
        frozenset({"POST"}),
        parse_callback,
        acknowledge,
        sends="`POST` JSON object (or array) with `receiver`/`pswd`",
        answers="`200 OK`; `403` if `receiver`/`pswd` differ from the account's",
        resends_refused=True,
    ),
    pull=Pull(InnoPaaSPull, InnoPaaSPuller),
    docs="innopaas",
)
