"""AWS End User Messaging SMS simulator (docs/providers.md#aws-end-user-messaging-sms).

AWS End User Messaging SMS reports through EventBridge, not HTTP: this simulator answers
no API (every request gets 404) and plays the service in the local demo by putting
``Text Message Delivery Status Updated`` events (``source: aws.sms-voice``, the fields of
AWS's documented examples) on the local default bus, moto server's EventBridge, where the
local stack's event router delivers them to the events function. A delivered message
gets ``TEXT_SUCCESSFUL`` then ``TEXT_DELIVERED``, both ``isFinal: true``, as AWS's own
examples show for one message.

``python -m dlrhub_local.put_event MESSAGE_ID [EVENT_TYPE] --endpoint URL`` puts one such
event on a bus by hand (the local stack prints the command).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import uuid
from typing import Any

import boto3

from dlrhub_local.simulators.base import DemoMessage, SimRequest, SimResponse, SimulatorServer, json_reply

SOURCE = "aws.sms-voice"
DETAIL_TYPE = "Text Message Delivery Status Updated"
#: The final event type -> the events AWS sends for it, in order.
EVENTS = {
    "TEXT_DELIVERED": ("TEXT_SUCCESSFUL", "TEXT_DELIVERED"),
    "TEXT_BLOCKED": ("TEXT_BLOCKED",),
    "TEXT_TTL_EXPIRED": ("TEXT_SUCCESSFUL", "TEXT_TTL_EXPIRED"),
}
DESCRIPTIONS = {
    "TEXT_SUCCESSFUL": "Message has been accepted by phone carrier",
    "TEXT_DELIVERED": "Message has been accepted by phone",
    "TEXT_BLOCKED": "Message has been blocked by the recipient's carrier",
}


def detail(
    message_id: str, event_type: str, destination: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """An event's ``detail``, as in AWS's examples (the destination only when given)."""
    millis = int((time.time() if now is None else now) * 1000)
    found: dict[str, Any] = {
        "eventType": event_type,
        "eventVersion": "1.0",
        "eventTimestamp": millis,
        "isFinal": True,
        "originationPhoneNumber": "+18445550123",
        "isoCountryCode": "US",
        "isInternationalSend": False,
        "mcc": "310",
        "mnc": "800",
        "carrierName": "T-mobile USA Inc.",
        "messageId": message_id,
        "messageRequestTimestamp": millis - 2000,
        "messageEncoding": "GSM",
        "messageType": "TRANSACTIONAL",
        "messageStatus": event_type.removeprefix("TEXT_"),
        "messageStatusDescription": DESCRIPTIONS.get(event_type, event_type),
        "totalMessageParts": 1,
        "totalMessagePrice": 0.00581,
        "totalCarrierFee": 0.003,
    }
    if destination:
        found["destinationPhoneNumber"] = destination
    return found


def put_event(events: Any, message_id: str, event_type: str, destination: str | None = None) -> bool:
    """One event on the default bus; True when EventBridge took it."""
    entry = {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail(message_id, event_type, destination)),
    }
    return not events.put_events(Entries=[entry]).get("FailedEntryCount")


class AwsEumSimulator(SimulatorServer):
    name = provider = "awseum"
    demo_messages = (
        DemoMessage("d1a0e7c2-0000-4000-8000-000000000001", "+15558675401", "TEXT_DELIVERED", 2, push=True),
        DemoMessage("d1a0e7c2-0000-4000-8000-000000000002", "+15558675402", "TEXT_BLOCKED", 3, push=True),
        DemoMessage("d1a0e7c2-0000-4000-8000-000000000003", "+15558675403", "TEXT_TTL_EXPIRED", 5, push=True),
    )

    def __init__(self, *, events: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._events = events

    @property
    def events(self) -> Any:
        """The EventBridge client (the process's endpoint: moto server in the local stack)."""
        if self._events is None:
            self._events = boto3.client("events")
        return self._events

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        return {}  # no keys: the events name no account; the stack's EVENTS_ACCOUNT does

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> AwsEumSimulator | None:
        return cls()

    def account_urls(self) -> dict[str, str]:
        return {}

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        pass  # everything happens in push_demo

    def push_demo(self, webhook_url: str, message: DemoMessage, keys: dict[str, Any]) -> bool:
        """The message's events on the local bus (no webhook: ``webhook_url`` is unused)."""
        types = EVENTS.get(message.outcome, (message.outcome,))
        return all([put_event(self.events, message.message_id, event_type) for event_type in types])

    @classmethod
    def example(cls, webhook_url: str, keys: dict[str, Any]) -> tuple[str, str] | None:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            return None
        command = f"{shlex.quote(sys.executable)} -m dlrhub_local.put_event {uuid.uuid4()} TEXT_DELIVERED"
        return "AWS End User Messaging SMS event on the local bus", f"{command} --endpoint {endpoint}"

    def is_api(self, request: SimRequest) -> bool:
        return False  # no HTTP API: the service reports through EventBridge

    def route(self, request: SimRequest) -> SimResponse:
        return json_reply(404, {"message": "not found"})

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        return json_reply(int(code or 500), {"code": code, "message": "simulated error"})
