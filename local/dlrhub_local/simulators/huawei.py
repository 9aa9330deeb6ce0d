"""Huawei Cloud SMN simulator (docs/providers.md#huawei-cloud-smn): ``GET /v2/{project_id}/notifications/sms/report``.

Authentication, as API Gateway does it:

* ``X-Auth-Token``: must be one of ``tokens``;
* else ``Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…``: the
  signature is recomputed from the request as received (path and query as sent, the
  signed headers' values) with the access key's SK, using the hub's
  ``canonical_request`` (itself checked against Huawei's official signer in the unit
  tests). ``SignedHeaders`` must include ``host`` and ``x-sdk-date``, and ``X-Sdk-Date``
  must be within ``date_tolerance`` (15 min) of the simulator's clock.

Any failure: HTTP 401 ``{"error_code": "APIGW.0301", "error_msg": "Incorrect IAM
authentication information: …", "request_id": …}``. A project other than ``project_id``:
403 ``SMN.0003`` (this simulator's choice).

Query: ``start_time``, ``end_time`` (ms) and ``sign_id`` are required, and a bad value
of one is 400 ``{"request_id", "code": "SMN.0014", "message"}`` (code chosen here);
``offset`` (default 0) and ``limit`` (default 100, at most 100) out of range or not whole
numbers: 400 ``SMN.0015 "Offset or limit is invalid."`` (the documented code). Optional
``message_id``, ``mobile``, ``status`` filter further.

Reports match when their ``submit_time`` is in ``[start_time, end_time]``, ordered by
submit time then id, so offset paging is stable. A message shows ``status`` 0 (no
``status_desc``/``deliver_time``) until its final status is due. ``count``: the docs call
it "the number of elements of the list"; ``count_mode="page"`` (default) answers the
number in this reply, ``"total"`` the number matching the query.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dlrhub.providers.huawei import ALGORITHM, DATE_FORMAT, canonical_request
from dlrhub_local.simulators.base import DemoMessage, SimRequest, SimResponse, SimulatorServer, json_reply

PATH = re.compile(r"^/v2/(?P<project>[^/]+)/notifications/sms/report/?$")
AUTH = re.compile(r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$")
MAX_LIMIT = 100
INVALID_PARAMETER = "SMN.0014"
INVALID_PAGE = "SMN.0015"


@dataclass(frozen=True)
class HuaweiMessage:
    message_id: str
    status: int  # final: 1 success, 2 failure (0: never gets one)
    status_desc: str | None
    submit_time: float
    final_at: float
    mobile: str
    sign_id: str
    nation_code: str = "86"


def iso_z(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole(value: str | None, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    return int(value) if re.fullmatch(r"-?[0-9]{1,16}", value) else None


class HuaweiSimulator(SimulatorServer):
    name = provider = "huawei"
    url_key = "endpoint"
    demo_messages = (
        DemoMessage("demo-hw-0000000001", "8613400006781", "DELIVRD", 2, push=False),
        DemoMessage("demo-hw-0000000002", "8613400006782", "REJECTD", 4, push=False),
        # Sent through Huawei but never registered: the window poll finds and stores it anyway.
        DemoMessage("demo-hw-unregistered", "8613400006789", "DELIVRD", 3, push=False, registered=False),
    )

    def __init__(
        self,
        *,
        project_id: str = "0123456789abcdef0123456789abcdef",
        sign_ids: tuple[str, ...] = ("sign-demo",),
        keys: dict[str, str] | None = None,
        tokens: tuple[str, ...] = (),
        count_mode: str = "page",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        date_tolerance: float = 15 * 60,
    ) -> None:
        super().__init__(port=port, clock=clock)
        if count_mode not in ("page", "total"):
            raise ValueError("count_mode is page or total")
        self.project_id = project_id
        self.sign_ids = set(sign_ids)
        #: AK -> SK.
        self.keys: dict[str, str] = dict(keys or {})
        self.tokens = set(tokens)
        self.count_mode = count_mode
        self.date_tolerance = date_tolerance
        self._messages: dict[str, HuaweiMessage] = {}

    # -- the local stack's demo ----------------------------------------------------------

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        return {
            "project_id": secrets.token_hex(16),
            "sign_id": secrets.token_hex(16),
            "ak": "DEMO" + secrets.token_hex(8).upper(),
            "sk": secrets.token_urlsafe(24),
        }

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> HuaweiSimulator | None:
        if not keys.get("project_id") or not keys.get("sign_id"):
            return None
        signing = {str(keys["ak"]): str(keys["sk"])} if keys.get("ak") and keys.get("sk") else {}
        tokens = (str(keys["auth_token"]),) if keys.get("auth_token") else ()
        if not signing and not tokens:
            return None
        return cls(project_id=str(keys["project_id"]), sign_ids=(str(keys["sign_id"]),), keys=signing, tokens=tokens)

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        status = 1 if message.outcome == "DELIVRD" else 2
        desc, mobile = message.outcome, message.destination
        self.add(message.message_id, status, status_desc=desc, after=message.after, mobile=mobile)

    # -- data ------------------------------------------------------------------------------

    def account_secret(self, *, ak: str | None = None, token: str | None = None) -> dict[str, str]:
        """The account secret pointing the hub at this simulator (AK/SK, or a token); no
        ``webhook_secret``: Huawei SMN is pull only."""
        secret = {
            "endpoint": self.url,
            "project_id": self.project_id,
            "sign_id": sorted(self.sign_ids)[0],
        }
        if token is not None:
            return {**secret, "auth_token": token}
        ak = ak or sorted(self.keys)[0]
        return {**secret, "ak": ak, "sk": self.keys[ak]}

    def add(
        self,
        message_id: str,
        status: int = 1,
        *,
        status_desc: str | None = None,
        submitted: float | None = None,
        after: float = 0.0,
        mobile: str = "8613400006789",
        sign_id: str | None = None,
    ) -> None:
        """A message submitted at ``submitted`` (Unix s, default now), final ``after`` s from now."""
        if status not in (0, 1, 2):
            raise ValueError("status must be 0, 1 or 2")
        desc = status_desc if status_desc is not None else {1: "DELIVRD", 2: "UNDELIV"}.get(status)
        message = HuaweiMessage(
            message_id,
            status,
            desc,
            time.time() if submitted is None else submitted,
            time.time() + after,
            mobile,
            sign_id or sorted(self.sign_ids)[0],
        )
        with self._lock:
            self._messages[message_id] = message

    def entry(self, message: HuaweiMessage, now: float) -> dict[str, Any]:
        final = now >= message.final_at and message.status != 0
        return {
            "message_id": message.message_id,
            "status": message.status if final else 0,
            "sign_id": message.sign_id,
            "status_desc": message.status_desc if final else None,
            "fee_num": 1,
            "extend_code": None,
            "nation_code": message.nation_code,
            "mobile": message.mobile,
            "submit_time": iso_z(message.submit_time),
            "deliver_time": iso_z(message.final_at) if final else None,
        }

    # -- serving -----------------------------------------------------------------------

    def is_api(self, request: SimRequest) -> bool:
        return request.method == "GET" and PATH.match(request.path) is not None

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        if isinstance(code, int):
            return json_reply(code, {"error_code": f"APIGW.{code:04d}", "error_msg": "simulated error"})
        if str(code).startswith("APIGW"):
            return self._denied(str(code))
        return json_reply(400, {"request_id": uuid.uuid4().hex, "code": str(code), "message": "simulated error"})

    def _denied(self, why: str) -> SimResponse:
        body = {
            "error_code": "APIGW.0301",
            "error_msg": f"Incorrect IAM authentication information: {why}",
            "request_id": uuid.uuid4().hex,
        }
        return json_reply(401, body)

    def _invalid(self, code: str, message: str) -> SimResponse:
        return json_reply(400, {"request_id": uuid.uuid4().hex, "code": code, "message": message})

    def authenticate(self, request: SimRequest) -> str | None:
        """None when the request is authentic, else why not."""
        token = request.headers.get("x-auth-token")
        if token is not None:
            return None if token in self.tokens else "token is invalid"
        found = AUTH.match(request.headers.get("authorization", "").strip())
        if not found:
            return "Authorization header missing or not SDK-HMAC-SHA256"
        access, signed, offered = found.groups()
        secret = self.keys.get(access)
        if secret is None:
            return "access key not found"
        return self._signature_problem(request, secret, signed, offered)

    def _signature_problem(self, request: SimRequest, secret: str, signed: str, offered: str) -> str | None:
        """Why the signature ``offered`` over the ``signed`` headers is not the one ``secret`` makes (None: it is)."""
        names = signed.split(";")
        if not {"host", "x-sdk-date"} <= set(names) or any(name not in request.headers for name in names):
            return "signed headers must include host and x-sdk-date, all present"
        date = request.headers["x-sdk-date"]
        if late := self._date_problem(date):
            return late
        headers = {name: request.headers[name] for name in names}
        url = f"http://{request.headers['host']}{request.target}"
        canonical, signed_names = canonical_request(request.method, url, headers, request.body)
        if signed_names != signed:
            return "signed headers are not in canonical order"
        to_sign = f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, offered) else "verify aksk signature fail"

    def _date_problem(self, date: str) -> str | None:
        try:
            signed_at = datetime.strptime(date, DATE_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return "x-sdk-date is not like 20260101T000000Z"
        return (
            "x-sdk-date is too far from the server time" if abs(signed_at - self.now()) > self.date_tolerance else None
        )

    def _query(self, request: SimRequest) -> SimResponse | tuple[int, int, str, int, int]:
        """``(start, end, sign_id, offset, limit)``, or the error Huawei answers for them."""
        start, end = _whole(request.param("start_time")), _whole(request.param("end_time"))
        sign_id = request.param("sign_id")
        if start is None or end is None or not sign_id:
            missing = "start_time" if start is None else "end_time" if end is None else "sign_id"
            return self._invalid(INVALID_PARAMETER, f"Invalid parameter: {missing}.")
        if start > end:
            return self._invalid(INVALID_PARAMETER, "Invalid parameter: start_time is after end_time.")
        offset, limit = _whole(request.param("offset"), 0), _whole(request.param("limit"), MAX_LIMIT)
        if offset is None or limit is None or offset < 0 or not 1 <= limit <= MAX_LIMIT:
            return self._invalid(INVALID_PAGE, "Offset or limit is invalid.")
        return start, end, sign_id, offset, limit

    def route(self, request: SimRequest) -> SimResponse:
        refused = self.authenticate(request)
        if refused is not None:
            return self._denied(refused)
        found = PATH.match(request.path)
        if found is None or found.group("project") != self.project_id:
            return json_reply(
                403, {"request_id": uuid.uuid4().hex, "code": "SMN.0003", "message": "project does not match"}
            )
        query = self._query(request)
        if isinstance(query, SimResponse):
            return query
        start, end, sign_id, offset, limit = query
        now = time.time()
        with self._lock:
            messages = sorted(self._messages.values(), key=lambda m: (m.submit_time, m.message_id))
        matching = []
        for message in messages:
            if message.sign_id != sign_id or not start <= int(message.submit_time * 1000) <= end:
                continue
            entry = self.entry(message, now)
            if any(
                (value := request.param(name)) is not None and str(entry[name]) != value
                for name in ("message_id", "mobile", "status")
            ):
                continue
            matching.append(entry)
        page = matching[offset : offset + limit]
        count = len(page) if self.count_mode == "page" else len(matching)
        return json_reply(200, {"request_id": uuid.uuid4().hex, "count": count, "data": page})
