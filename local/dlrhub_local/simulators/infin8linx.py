"""Infin8linx simulator (docs/providers.md#infin8linx): ``GET /sms/state``, ``POST /sms/monitor``, GET callbacks.

``/sms/state`` checks, in this order (first failure answers, HTTP 200 with ``code``):

* a missing ``spid``, ``pwd``, ``timestamp`` or ``msgid`` -> 101 (required field empty);
* an unknown ``spid`` -> 103;
* ``timestamp`` not a whole number, or more than ``clock_tolerance`` (10) seconds away
  from the simulator's clock -> 102 (verification failed);
* ``pwd`` != ``md5(spid + "00000000" + password + timestamp)`` (computed here, not with
  the hub's code) -> 104 (password mismatch);
* more than 100 ids in ``msgid`` -> 109 (parse failure). The docs give no code for this;
  109 is this simulator's choice.

``data`` lists the known ids asked for, ``state`` 0 until the message's final state is
due, then 1 or 2; unknown ids are left out (the docs do not say). ``/sms/monitor`` takes
the form fields, records each report in ``monitor_reports`` and answers code 0.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from dlrhub_local.simulators.base import (
    DemoMessage,
    SimRequest,
    SimResponse,
    SimulatorServer,
    json_reply,
    random_secret,
)

MAX_IDS = 100
MESSAGES = {
    0: "Success",
    101: "Required field is empty",
    102: "Verification failed",
    103: "spid does not exist",
    104: "Password mismatch",
    109: "Parse failure",
    120: "System error, please try again later",
}


@dataclass(frozen=True)
class Infin8linxMessage:
    msgid: str
    state: int  # the final state: 1 delivered, 2 failed (0: never gets one)
    final_at: float
    das: str = ""


@dataclass(frozen=True)
class MonitorReport:
    spid: str
    start_time: int
    end_time: int
    total: int
    success: int


def signature(spid: str, password: str, timestamp: str) -> str:
    return hashlib.md5(f"{spid}00000000{password}{timestamp}".encode(), usedforsecurity=False).hexdigest()


class Infin8linxSimulator(SimulatorServer):
    name = provider = "infin8linx"
    url_key = "base_url"
    demo_messages = (
        DemoMessage("90000000001", "628131565741", "1", 2, push=True),
        DemoMessage("90000000002", "628131565742", "2", 4, push=True),
        DemoMessage("90000000003", "628131565743", "1", 3, push=False),
        DemoMessage("90000000004", "628131565744", "2", 5, push=False),
    )

    def __init__(
        self,
        accounts: dict[str, str] | None = None,
        *,
        port: int = 0,
        clock: Callable[[], float] = time.time,
        clock_tolerance: float = 10.0,
    ) -> None:
        super().__init__(port=port, clock=clock)
        #: spid -> plaintext password.
        self.accounts: dict[str, str] = dict(accounts or {})
        self.clock_tolerance = clock_tolerance
        self._messages: dict[str, Infin8linxMessage] = {}
        self.monitor_reports: list[MonitorReport] = []

    def account_secret(self, spid: str, webhook_secret: str | None = None) -> dict[str, str]:
        """The account secret (Secrets Manager JSON) that points the hub at this simulator."""
        return {
            "webhook_secret": webhook_secret or secrets.token_urlsafe(16),
            "base_url": self.url,
            "spid": spid,
            "password": self.accounts[spid],
        }

    # -- the local stack's demo ----------------------------------------------------------

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        return {"webhook_secret": random_secret(), "spid": "demo-spid", "password": random_secret()}

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> Infin8linxSimulator | None:
        if not keys.get("spid") or not keys.get("password"):
            return None
        return cls({str(keys["spid"]): str(keys["password"])})

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        self.add(message.message_id, int(message.outcome), after=message.polls_see_it_after, das=message.destination)

    def push_demo(self, webhook_url: str, message: DemoMessage, keys: dict[str, Any]) -> bool:
        return self.push(webhook_url, message.message_id) == 200

    @classmethod
    def example(cls, webhook_url: str, keys: dict[str, Any]) -> tuple[str, str]:
        return "Infin8linx delivery callback", f"curl '{webhook_url}?msgid=36160109669&das=628131565746&state=1'"

    # -- data ------------------------------------------------------------------------------

    def add(self, msgid: str, state: int = 1, *, after: float = 0.0, das: str = "") -> None:
        """A message whose final ``state`` (1 or 2; 0 never final) shows ``after`` seconds from now."""
        if state not in (0, 1, 2):
            raise ValueError("state must be 0, 1 or 2")
        with self._lock:
            self._messages[msgid] = Infin8linxMessage(msgid, state, time.time() + after, das)

    def state_of(self, msgid: str) -> int | None:
        with self._lock:
            message = self._messages.get(msgid)
        if message is None:
            return None
        return message.state if time.time() >= message.final_at else 0

    def is_api(self, request: SimRequest) -> bool:
        return (request.method, request.path) in {("GET", "/sms/state"), ("POST", "/sms/monitor")}

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        return json_reply(200, {"code": code, "msg": MESSAGES.get(code, "Error")})

    def route(self, request: SimRequest) -> SimResponse:
        if request.path == "/sms/state":
            return self._state(request)
        return self._monitor(request)

    def _state(self, request: SimRequest) -> SimResponse:
        fields = {name: request.param(name) for name in ("spid", "pwd", "timestamp", "msgid")}
        if not all(fields.values()):
            return self.error_reply(request, 101)
        spid, pwd, timestamp, msgid = (str(fields[name]) for name in ("spid", "pwd", "timestamp", "msgid"))
        password = self.accounts.get(spid)
        if password is None:
            return self.error_reply(request, 103)
        if not timestamp.isdigit() or abs(int(timestamp) - self.now()) > self.clock_tolerance:
            return self.error_reply(request, 102)
        if pwd != signature(spid, password, timestamp):
            return self.error_reply(request, 104)
        ids = [part.strip() for part in msgid.split(",") if part.strip()]
        if len(ids) > MAX_IDS:
            return self.error_reply(request, 109)
        data = [{"msgid": mid, "state": state} for mid in ids if (state := self.state_of(mid)) is not None]
        return json_reply(200, {"code": 0, "msg": "Success", "data": data})

    def _monitor(self, request: SimRequest) -> SimResponse:
        form = request.form()
        names = ("spid", "start_time", "end_time", "total", "success")
        if not all(form.get(name) for name in names):
            return self.error_reply(request, 101)
        if form["spid"] not in self.accounts:
            return self.error_reply(request, 103)
        if not all(form[name].isdigit() for name in names[1:]):
            return self.error_reply(request, 109)
        report = MonitorReport(form["spid"], *(int(form[name]) for name in names[1:]))
        with self._lock:
            self.monitor_reports.append(report)
        return json_reply(200, {"code": 0, "msg": "Success"})

    def push(self, callback_url: str, msgid: str, *, timeout: float = 5.0) -> int:
        """The provider's delivery notification: ``GET {callback_url}?msgid&das&state``; the HTTP status."""
        with self._lock:
            message = self._messages[msgid]
        params = {"msgid": msgid, "das": message.das, "state": str(message.state)}
        return requests.get(callback_url, params=params, timeout=timeout).status_code
