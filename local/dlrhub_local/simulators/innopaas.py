"""InnoPaaS simulator (docs/providers.md#innopaas): ``POST /pull/report`` and the JSON status push.

``/pull/report`` takes ``{"account", "password", "count"}`` (``count`` 1-100, default 20)
and answers ``{"code": 0, "error": "", "result": [{batchSeq, mobile, msgid, reportTime,
status}]}`` with the oldest reports due, which are DELETED as they are returned (as the
docs say): a report pulled and then lost by the caller is gone. Errors (codes chosen
here; the docs list none for pull), HTTP 200: ``{"code": 101, "error": "request body is
not a JSON object"}``, ``{"code": 103, "error": "account or password is incorrect"}``,
``{"code": 104, "error": "count must be between 1 and 100"}``.

``push`` POSTs one report object, with the receiving credentials (``receiver``,
``pswd``) and every documented field, to a callback URL.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
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

MAX_COUNT = 100
DEFAULT_COUNT = 20


@dataclass(frozen=True)
class InnoPaaSReport:
    msgid: str
    status: str
    mobile: str
    available_at: float
    request_time: float
    batch_seq: str = field(default="I8393346_2506101652_35")

    def pulled(self) -> dict[str, str]:
        return {
            "batchSeq": self.batch_seq,
            "mobile": self.mobile,
            "msgid": self.msgid,
            "reportTime": str(int(self.available_at * 1000)),
            "status": self.status,
        }

    def pushed(self, receiver: str, pswd: str) -> dict[str, str]:
        """Every documented field of a status report push (InnoPaaS documents it so)."""
        return {
            **self.pulled(),
            "receiver": receiver,
            "pswd": pswd,
            "uid": self.batch_seq,
            "notifyTime": str(int(time.time() * 1000)),
            "requestTime": str(int(self.request_time * 1000)),
            "currency": "CNY",
            "smsNum": "1",
            "unitPrice": "0.05670",
            "fee": "0.0567",
            "accessNumber": "508tongdao",
            "countryNumber": "0086",
            "regionCode": "CN",
            "mnoName": "China Mobile",
            "mcc": "460",
            "mnc": "2",
        }


#: The example report of InnoPaaS's documentation (docs/providers.md#innopaas), as a person would try it.
SEED_EXAMPLE = {
    "msgid": "627239445736452096",
    "mobile": "8618888888888",
    "status": "DELIVRD",
    "reportTime": "1749545540967",
    "fee": "0.0567",
    "currency": "CNY",
    "smsNum": "1",
}


class InnoPaaSSimulator(SimulatorServer):
    name = provider = "innopaas"
    url_key = "pull_url"
    demo_messages = (
        DemoMessage("900000000000000001", "8618888888881", "DELIVRD", 3, push=True),
        DemoMessage("900000000000000002", "8618888888882", "DELIVRD", 2, push=False),
        DemoMessage("900000000000000003", "8618888888883", "REJECTD", 4, push=False),
    )

    def __init__(
        self, accounts: dict[str, str] | None = None, *, port: int = 0, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(port=port, clock=clock)
        #: API account -> API password.
        self.accounts: dict[str, str] = dict(accounts or {})
        self._held: dict[str, deque[InnoPaaSReport]] = {}
        self._to_push: dict[tuple[str, str], InnoPaaSReport] = {}
        #: Every report handed out by a pull, in order (account, report as sent).
        self.pulled: list[tuple[str, dict[str, str]]] = []

    # -- the local stack's demo ----------------------------------------------------------

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        return {
            "webhook_secret": random_secret(),
            "receiver": "dlrhub-demo",
            "pswd": random_secret(),
            "api_account": "demo",
            "api_password": random_secret(),
        }

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> InnoPaaSSimulator | None:
        if not keys.get("api_account") or not keys.get("api_password"):
            return None
        return cls({str(keys["api_account"]): str(keys["api_password"])})

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        # A report is pushed or pulled, never both: pushed ones are not queued for pull.
        account = str(keys["api_account"])
        self.add(account, message.message_id, message.outcome, after=message.after, pull=not message.push)

    def push_demo(self, webhook_url: str, message: DemoMessage, keys: dict[str, Any]) -> bool:
        receiver, pswd = str(keys.get("receiver", "")), str(keys.get("pswd", ""))
        return self.push(webhook_url, str(keys["api_account"]), message.message_id, receiver, pswd) == 200

    @classmethod
    def example(cls, webhook_url: str, keys: dict[str, Any]) -> tuple[str, str]:
        body = {"receiver": keys.get("receiver", ""), "pswd": keys.get("pswd", ""), **SEED_EXAMPLE}
        command = f"curl -H 'content-type: application/json' -d '{json.dumps(body, separators=(',', ':'))}'"
        return "InnoPaaS status push", f"{command} '{webhook_url}'"

    # -- data ------------------------------------------------------------------------------

    def account_secret(self, account: str, webhook_secret: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "webhook_secret": webhook_secret or secrets.token_urlsafe(16),
            "pull_url": self.url,
            "api_account": account,
            "api_password": self.accounts[account],
            **extra,
        }

    def add(
        self,
        account: str,
        msgid: str,
        status: str = "DELIVRD",
        *,
        after: float = 0.0,
        mobile: str = "8618888888888",
        pull: bool = True,
    ) -> None:
        """A report for ``account``, due ``after`` seconds from now: to be pulled, or (``pull=False``) pushed."""
        now = time.time()
        report = InnoPaaSReport(msgid, status, mobile, now + after, now)
        with self._lock:
            if pull:
                self._held.setdefault(account, deque()).append(report)
            else:
                self._to_push[(account, msgid)] = report

    def held(self, account: str) -> int:
        """Reports still at the provider (not pulled yet) for ``account``."""
        with self._lock:
            return len(self._held.get(account, ()))

    def is_api(self, request: SimRequest) -> bool:
        return request.method == "POST" and request.path == "/pull/report"

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        return json_reply(200, {"code": code, "error": "simulated error", "result": []})

    def route(self, request: SimRequest) -> SimResponse:
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return json_reply(200, {"code": 101, "error": "request body is not a JSON object"})
        account = body.get("account")
        if not isinstance(account, str) or self.accounts.get(account) != body.get("password"):
            return json_reply(200, {"code": 103, "error": "account or password is incorrect"})
        count = body.get("count", DEFAULT_COUNT)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            return json_reply(200, {"code": 104, "error": "count must be between 1 and 100"})
        now = time.time()
        result = []
        with self._lock:
            queue = self._held.get(account, deque())
            due = sorted((r for r in queue if r.available_at <= now), key=lambda r: r.available_at)[:count]
            for report in due:
                queue.remove(report)
                result.append(report.pulled())
            self.pulled += [(account, item) for item in result]
        return json_reply(200, {"code": 0, "error": "", "result": result})

    def push(self, callback_url: str, account: str, msgid: str, receiver: str, pswd: str, *, timeout: float = 5) -> int:
        """Push the report of ``msgid`` (taking it off the pull queue: a report is pushed or pulled, not both).

        KeyError if the simulator holds no such report (e.g. it was pulled already).
        """
        with self._lock:
            report = self._to_push.pop((account, msgid), None)
            queue = self._held.get(account, deque())
            if report is None:
                report = next((r for r in queue if r.msgid == msgid), None)
                if report is None:
                    raise KeyError(msgid)
                queue.remove(report)
        return requests.post(callback_url, json=report.pushed(receiver, pswd), timeout=timeout).status_code
