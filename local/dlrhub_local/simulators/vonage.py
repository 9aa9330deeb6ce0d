"""Vonage simulator (docs/providers.md#vonage): signed SMS API delivery receipts.

The hub takes only Vonage's delivery receipts, so this simulator answers no API (every
request gets 404); it plays Vonage in the local demo. A demo message gets one receipt
(one part), sent the way the message's ``format`` says (``GET`` query, ``POST`` form or
``POST`` JSON, as the dashboard's "Webhook format" setting would), with every documented
field and, when the demo account has a ``signature_secret``, ``timestamp``, ``nonce`` and
``sig`` (computed here, not with the hub's code): every parameter sorted by name as
``&name=value`` (``&`` and ``=`` in values as ``_``), then MD5 of it followed by the
secret (``md5hash``) or its HMAC (``md5``, ``sha1``, ``sha256``, ``sha512``), hex.
"""

from __future__ import annotations

import hashlib
import hmac
import shlex
import time
import uuid
from datetime import UTC, datetime
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

SENDER = "DLRHubDemo"
API_KEY = "abcd1234"
#: The demo message -> how its receipt is sent (the dashboard's Webhook format).
FORMATS = {"0A00000000000001": "json", "0A00000000000002": "get", "0A00000000000003": "form"}
ERR_CODES = {"delivered": "0", "expired": "0", "failed": "4", "rejected": "6", "unknown": "1"}


def sign(params: dict[str, str], secret: str, method: str) -> str:
    text = "".join(f"&{name}={params[name].replace('&', '_').replace('=', '_')}" for name in sorted(params))
    if method == "md5hash":
        return hashlib.md5((text + secret).encode(), usedforsecurity=False).hexdigest()
    return hmac.new(secret.encode(), text.encode(), getattr(hashlib, method)).hexdigest()


def receipt(
    message_id: str, msisdn: str, status: str, keys: dict[str, Any], now: float | None = None
) -> dict[str, str]:
    """A delivery receipt with every documented field; signed when ``keys`` has a signature secret."""
    now = time.time() if now is None else now
    moment = datetime.fromtimestamp(now, UTC)
    params = {
        "msisdn": msisdn,
        "to": SENDER,
        "network-code": "23410",
        "messageId": message_id,
        "price": "0.03330000",
        "status": status,
        "scts": moment.strftime("%y%m%d%H%M"),
        "err-code": ERR_CODES.get(status, "99"),
        "api-key": API_KEY,
        "message-timestamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "client-ref": "local-demo",
    }
    secret = keys.get("signature_secret")
    if secret:
        params |= {"timestamp": str(int(now)), "nonce": str(uuid.uuid4())}
        params["sig"] = sign(params, str(secret), str(keys.get("signature_method", "md5hash")))
    return params


class VonageSimulator(SimulatorServer):
    name = provider = "vonage"
    demo_messages = (
        DemoMessage("0A00000000000001", "447700900001", "delivered", 2, push=True),
        DemoMessage("0A00000000000002", "447700900002", "expired", 5, push=True),
        DemoMessage("0A00000000000003", "447700900003", "delivered", 3, push=True),
    )

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        return {"webhook_secret": random_secret(), "signature_secret": random_secret(), "signature_method": "sha256"}

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> VonageSimulator | None:
        return cls() if keys.get("webhook_secret") else None

    def account_urls(self) -> dict[str, str]:
        return {}  # the hub never calls Vonage

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        pass  # everything happens in push_demo

    def push_demo(self, webhook_url: str, message: DemoMessage, keys: dict[str, Any]) -> bool:
        params = receipt(message.message_id, message.destination, message.outcome, keys)
        return self.push(webhook_url, params, FORMATS.get(message.message_id, "json")) == 200

    def push(self, url: str, params: dict[str, str], how: str = "json", *, timeout: float = 10) -> int:
        """One receipt as ``GET`` query, ``POST`` form or ``POST`` JSON; the hub's HTTP status."""
        if how == "get":
            return requests.get(url, params=params, timeout=timeout).status_code
        if how == "form":
            return requests.post(url, data=params, timeout=timeout).status_code
        return requests.post(url, json=params, timeout=timeout).status_code

    @classmethod
    def example(cls, webhook_url: str, keys: dict[str, Any]) -> tuple[str, str]:
        params = receipt("0B00000127FDBC63", "447547232824", "delivered", keys)
        return "Vonage delivery receipt (GET), signed now", f"curl {shlex.quote(webhook_url + '?' + urlencode(params))}"

    def is_api(self, request: SimRequest) -> bool:
        return False  # Vonage's API is not simulated: the hub only takes its receipts

    def route(self, request: SimRequest) -> SimResponse:
        return json_reply(404, {"message": "not found"})

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        return json_reply(int(code or 500), {"code": code, "message": "simulated error"})
