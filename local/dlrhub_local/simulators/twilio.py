"""Twilio simulator (docs/providers.md#twilio): signed status callbacks, as Twilio sends them.

The hub takes only Twilio's status callbacks (it never asks Twilio), so this simulator
answers no API (every request gets 404); it plays Twilio in the local demo. For a demo
message it POSTs a ``sent`` callback, then the final one (``delivered``, or
``undelivered`` with ``ErrorCode``), form-encoded with the fields of Twilio's documented
example, and signed with ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the demo
account's ``auth_token``, of the URL called and the parameters sorted by name (computed
here, not with the hub's code).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import shlex
from typing import Any
from urllib.parse import urlencode

import requests

from dlrhub_local.simulators.base import (
    DemoMessage,
    SimRequest,
    SimResponse,
    SimulatorServer,
    json_reply,
    random_secret,
)

ACCOUNT_SID = "AC" + "0" * 31 + "1"
FROM = "+15017250604"
#: The final word -> the callbacks Twilio sends for it, in order.
CALLBACKS = {"delivered": ("sent", "delivered"), "undelivered": ("sent", "undelivered"), "failed": ("failed",)}
ERROR_CODES = {"undelivered": "30003", "failed": "30034"}


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    text = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def callback_params(message_sid: str, status: str, to: str) -> dict[str, str]:
    """The parameters of a status callback (Twilio's documented example, and To, ApiVersion, ErrorCode)."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": FROM,
        "MessageSid": message_sid,
        "MessageStatus": status,
        "SmsSid": message_sid,
        "SmsStatus": status,
        "To": to,
    }
    if status in ERROR_CODES:
        params["ErrorCode"] = ERROR_CODES[status]
    return params


class TwilioSimulator(SimulatorServer):
    name = provider = "twilio"
    demo_messages = (
        DemoMessage("SM90000000000000000000000000000001", "+15558675301", "delivered", 2, push=True),
        DemoMessage("SM90000000000000000000000000000002", "+15558675302", "undelivered", 4, push=True),
        DemoMessage("SM90000000000000000000000000000003", "+15558675303", "failed", 3, push=True),
    )

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        return {"webhook_secret": random_secret(), "auth_token": secrets.token_hex(16)}

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> TwilioSimulator | None:
        return cls() if keys.get("webhook_secret") else None

    def account_urls(self) -> dict[str, str]:
        return {}  # the hub never calls Twilio

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        pass  # everything happens in push_demo

    def push_demo(self, webhook_url: str, message: DemoMessage, keys: dict[str, Any]) -> bool:
        statuses = CALLBACKS.get(message.outcome, (message.outcome,))
        token = str(keys.get("auth_token", ""))
        codes = [self.push(webhook_url, message.message_id, status, message.destination, token) for status in statuses]
        return all(code == 200 for code in codes)

    def push(self, url: str, message_sid: str, status: str, to: str, auth_token: str, *, timeout: float = 10) -> int:
        """One signed status callback (unsigned when ``auth_token`` is empty); the hub's HTTP status."""
        params = callback_params(message_sid, status, to)
        headers = {"X-Twilio-Signature": sign(url, params, auth_token)} if auth_token else {}
        return requests.post(url, data=params, headers=headers, timeout=timeout).status_code

    @classmethod
    def example(cls, webhook_url: str, keys: dict[str, Any]) -> tuple[str, str]:
        params = callback_params("SM1342fe1b2c904d1ab04f0fc7a58abca9", "delivered", "+15558675310")
        signature = sign(webhook_url, params, str(keys.get("auth_token", "")))
        command = f"curl -H {shlex.quote('X-Twilio-Signature: ' + signature)} -d {shlex.quote(urlencode(params))}"
        return "Twilio status callback, signed", f"{command} {shlex.quote(webhook_url)}"

    def is_api(self, request: SimRequest) -> bool:
        return False  # Twilio's API is not simulated: the hub only takes its callbacks

    def route(self, request: SimRequest) -> SimResponse:
        return json_reply(404, {"message": "not found"})

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        return json_reply(int(code or 500), {"code": code, "message": "simulated error"})
