"""Huawei Cloud SMN (docs/providers.md#huawei-cloud-smn): pull only, ``ListSmsMsgReport``.

``GET /v2/{project_id}/notifications/sms/report?sign_id&start_time&end_time&offset&limit``
(times in ms, limit <= 100), signed with AK/SK (``SDK-HMAC-SHA256``) or sent with an
``X-Auth-Token``. The hub asks by time window, so it also learns of messages it was never
told about, and stores those too.

The account keys are :class:`HuaweiApi`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import quote, unquote, urlsplit

from pydantic import Field, SecretStr, model_validator

from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.providers.contract import (
    AccountMisconfigured,
    BaseUrl,
    Credentials,
    Http,
    PollByWindow,
    Provider,
    ProviderError,
    Required,
    expect_json,
)

NAME = "huawei"
PAGE = 100
MAX_UNSETTLED = 100_000
ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

#: ``status_desc`` words of a failed message (``status`` 2); others stay FAILED.
FAILURE_WORDS: dict[str, Status] = {
    "REJECTD": Status.REJECTED,
    "EXPIRED": Status.EXPIRED,
    "UNDELIV": Status.FAILED,
    "DELETED": Status.FAILED,
    "UNKNOWN": Status.UNKNOWN,
}


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_request(method: str, url: str, headers: Mapping[str, str], body: bytes = b"") -> tuple[str, str]:
    """(CanonicalRequest, SignedHeaders) as the official signer builds them."""
    parts = urlsplit(url)
    path = "/".join(_encode(segment) for segment in unquote(parts.path).split("/"))
    if not path.endswith("/"):
        path += "/"
    # Sorted decoded, as the official signer sorts its (key, value) pairs: "{" (%7B) sorts after "Z", not before.
    items = (item.partition("=") for item in parts.query.split("&") if item)
    pairs = sorted((unquote(key), unquote(value)) for key, _, value in items)
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    lowered = {key.lower(): str(value).strip() for key, value in headers.items() if "_" not in key}
    signed = sorted(lowered)
    canonical_headers = "".join(f"{key}:{lowered[key]}\n" for key in signed)
    payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    text = "\n".join([method.upper(), path, query, canonical_headers, ";".join(signed), payload])
    return text, ";".join(signed)


def sign_request(
    method: str, url: str, headers: Mapping[str, str], ak: str, sk: str, now: datetime, body: bytes = b""
) -> dict[str, str]:
    """The headers to send: the given ones plus ``Host``, ``X-Sdk-Date`` and ``Authorization``."""
    signed_headers = {**headers, "Host": urlsplit(url).netloc, "X-Sdk-Date": now.astimezone(UTC).strftime(DATE_FORMAT)}
    request, names = canonical_request(method, url, signed_headers, body)
    to_sign = f"{ALGORITHM}\n{signed_headers['X-Sdk-Date']}\n{hashlib.sha256(request.encode()).hexdigest()}"
    signature = hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    signed_headers["Authorization"] = f"{ALGORITHM} Access={ak}, SignedHeaders={names}, Signature={signature}"
    return signed_headers


def map_status(status: Any, word: str | None) -> Status | None:
    """``status`` 1 success, 2 failure (the carrier word says which), 0 no status yet (None)."""
    if str(status) == "1":
        return Status.DELIVERED
    if str(status) == "2":
        return FAILURE_WORDS.get(word or "", Status.FAILED)
    return None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def report_from(entry: Mapping[str, Any], account: str, received_at: datetime) -> StatusReport | None:
    status = map_status(entry.get("status"), entry.get("status_desc"))
    message_id = entry.get("message_id")
    if status is None or not isinstance(message_id, str) or not message_id:
        return None
    kept = ("status_desc", "fee_num", "nation_code", "submit_time", "deliver_time", "extend_code", "sign_id")
    details = {key: str(entry[key]) for key in kept if entry.get(key) is not None}
    return StatusReport(
        provider=NAME,
        account=account,
        message_id=message_id,
        status=status,
        raw_status=str(entry.get("status_desc") or entry.get("status")),
        provider_time=parse_time(entry.get("deliver_time")),
        received_at=received_at,
        source=Source.POLL,
        destination=str(entry.get("mobile"))[:32] if entry.get("mobile") else None,
        details=details,
    )


class HuaweiApi(Credentials):
    """The account keys for ``ListSmsMsgReport``: AK/SK signing, or an IAM token."""

    endpoint: BaseUrl = Field(description="https://smn.{region}.myhuaweicloud.com")
    project_id: Required
    sign_id: Required = Field(description="the SMS signature whose reports are read")
    ak: str | None = Field(default=None, min_length=1, description="access key (with sk)")
    sk: SecretStr | None = Field(default=None, min_length=1, description="secret key (with ak)")
    auth_token: SecretStr | None = Field(default=None, min_length=1, description="or a project-scoped IAM token")

    @model_validator(mode="after")
    def _one_way_to_sign(self) -> Self:
        if self.auth_token is None and (self.ak is None or self.sk is None):
            raise ValueError("needs ak and sk, or auth_token")
        return self


class HuaweiClient:
    def __init__(
        self,
        account: str,
        credentials: HuaweiApi,
        http: Http,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.account = account
        self._base = credentials.endpoint.rstrip("/")
        self._project = credentials.project_id
        self._sign_id = credentials.sign_id
        self._token = credentials.auth_token.get_secret_value() if credentials.auth_token else ""
        self._ak = credentials.ak or ""
        self._sk = credentials.sk.get_secret_value() if credentials.sk else ""
        self._http = http
        self._now = now
        #: During and after :meth:`reports`: the earliest ``submit_time`` of an entry still without
        #: a status, and the submit times of all such entries (at most MAX_UNSETTLED kept).
        self.oldest_unsettled: datetime | None = None
        self.unsettled: list[datetime] = []
        #: Where the next page of the window starts (a resume point).
        self.next_offset = 0

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))
        url = f"{self._base}/v2/{_encode(self._project)}/notifications/sms/report?{query}"
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["X-Auth-Token"] = self._token
        else:
            headers = sign_request("GET", url, headers, self._ak, self._sk, self._now())
        response = self._http.request("GET", url, headers=headers)
        reply = expect_json(response, "huawei ListSmsMsgReport")
        if response.status_code in (401, 403):
            raise AccountMisconfigured(f"huawei ListSmsMsgReport: HTTP {response.status_code}")
        if response.status_code != 200 or not isinstance(reply, dict):
            code = reply.get("code") or reply.get("error_code") if isinstance(reply, dict) else None
            raise ProviderError(f"huawei ListSmsMsgReport: HTTP {response.status_code} {code}", code=str(code))
        return reply

    def reports(self, start: datetime, end: datetime, offset: int = 0) -> Iterator[list[StatusReport]]:
        """Pages of final reports in ``[start, end]``, 100 at a time (offset/limit), from ``offset``
        (a window of the past pages stably: its entries are ordered by submit time, then id).

        ``count`` is "the number of elements of the list" in the docs: the total, or this
        page's. So a full page is followed by another request unless ``count`` is clearly
        the total (larger than the page) and reached; a short page ends the paging.
        """
        self.oldest_unsettled = None
        self.unsettled = []
        self.next_offset = offset
        while True:
            params = {
                "sign_id": self._sign_id,
                "start_time": str(int(start.timestamp() * 1000)),
                "end_time": str(int(end.timestamp() * 1000)),
                "offset": str(offset),
                "limit": str(PAGE),
            }
            reply = self._get(params)
            data = [entry for entry in reply.get("data") or [] if isinstance(entry, dict)]
            received = self._now()
            for entry in data:
                submitted = parse_time(entry.get("submit_time"))
                if str(entry.get("status")) == "0" and submitted is not None:
                    self.oldest_unsettled = min(submitted, self.oldest_unsettled or submitted)
                    if len(self.unsettled) < MAX_UNSETTLED:
                        self.unsettled.append(submitted)
            offset += len(data)
            self.next_offset = offset
            yield [report for entry in data if (report := report_from(entry, self.account, received))]
            count = int(reply.get("count") or 0)
            if len(data) < PAGE or (count > len(data) and offset >= count):
                return


PROVIDER = Provider(
    name=NAME,
    title="Huawei Cloud SMN",
    summary="pull only: ListSmsMsgReport read by time window",
    poll_by_window=PollByWindow(HuaweiApi, HuaweiClient),
    docs="huawei-cloud-smn",
)
