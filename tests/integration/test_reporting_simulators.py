"""The simulators of the providers that only report in: what they send is what the providers send.

Twilio's and Vonage's pushes are checked with the official SDKs' validators (not the hub's
code), then parsed by the hub; AWS End User Messaging's events go over moto server's
EventBridge, through a rule the local event router made from template.yaml, to a handler.
"""

from __future__ import annotations

import json
import threading
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from twilio.request_validator import RequestValidator
from vonage_http_client import Auth

from dlrhub.domain.inputs import WebhookRequest
from dlrhub.domain.status import Status
from dlrhub.providers import awseum, twilio, vonage
from dlrhub_local import event_router
from dlrhub_local.simulators import AwsEumSimulator, DemoMessage, TwilioSimulator, VonageSimulator
from dlrhub_local.template import Template
from tests.support import DUMMY_AWS, TEMPLATE

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import vonage as vonage_v3


class Receiver:
    """Records each request (method, path, headers, body) and answers 200."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {key.lower(): value for key, value in self.headers.items()}
                receiver.calls.append((self.command, self.path, headers, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/p/demo/secret"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def as_request(receiver: Receiver, method: str, path: str, headers: dict[str, str], body: bytes) -> WebhookRequest:
    parts = urlsplit(path)
    origin = receiver.url.split("/webhooks/")[0]
    url = f"{origin}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return WebhookRequest(method, parts.query, body.decode(), headers, url)


NOW = datetime.now(UTC)


def test_twilio_callbacks_are_signed_as_twilios_validator_checks(receiver: Receiver) -> None:
    keys = TwilioSimulator.demo_account()
    message = TwilioSimulator.demo_messages[1]  # undelivered: "sent", then "undelivered" with ErrorCode
    assert TwilioSimulator().push_demo(receiver.url, message, keys)
    assert [call[0] for call in receiver.calls] == ["POST", "POST"]
    credentials = twilio.TwilioWebhook(webhook_secret="s" * 16, auth_token=keys["auth_token"])
    words = []
    for method, path, headers, body in receiver.calls:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        assert RequestValidator(keys["auth_token"]).validate(receiver.url, params, headers["x-twilio-signature"])
        parsed = twilio.parse_callback(as_request(receiver, method, path, headers, body), "demo", credentials, NOW)
        [report] = parsed.reports
        assert (report.message_id, report.destination) == (message.message_id, message.destination)
        words.append((report.raw_status, report.status, report.details.get("ErrorCode")))
    assert words == [("sent", Status.SENT, None), ("undelivered", Status.FAILED, "30003")]


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
@pytest.mark.parametrize("message", VonageSimulator.demo_messages, ids=["json", "get", "form"])
def test_vonage_receipts_are_signed_as_vonages_sdks_check(
    receiver: Receiver, message: DemoMessage, method: str
) -> None:
    keys = {**VonageSimulator.demo_account(), "signature_method": method}
    assert VonageSimulator().push_demo(receiver.url, message, keys)
    [(verb, path, headers, body)] = receiver.calls
    request = as_request(receiver, verb, path, headers, body)
    params = vonage.params_of(request)
    if method == "md5hash":
        client = vonage_v3.Client(key="key", secret="secret", signature_secret=keys["signature_secret"])
        assert client.check_signature(dict(params))
    else:
        auth = Auth(api_key="key", signature_secret=keys["signature_secret"], signature_method=method)
        assert auth.check_signature(dict(params))
    credentials = vonage.VonageWebhook(
        webhook_secret="s" * 16, signature_secret=keys["signature_secret"], signature_method=method
    )
    [report] = vonage.parse_callback(request, "demo", credentials, datetime.now(UTC)).reports
    assert (report.message_id, report.raw_status, report.destination) == (
        message.message_id,
        message.outcome,
        message.destination,
    )


@pytest.fixture
def bus(moto_server: Any) -> tuple[Any, Any, list[event_router.Route]]:
    """moto server's EventBridge and SQS, with the rules the local stack makes from template.yaml."""
    clients = {
        name: boto3.client(name, endpoint_url=moto_server.endpoint, region_name=DUMMY_AWS["AWS_REGION"])
        for name in ("events", "sqs")
    }
    routes = event_router.create_rules(Template(TEMPLATE).event_rules(), clients["events"], clients["sqs"])
    return clients["events"], clients["sqs"], routes


def test_aws_eum_events_reach_the_events_function_through_the_local_rule(bus: Any) -> None:
    events, sqs, routes = bus
    [route] = routes
    assert route.rule.function == "EventsInFunction"
    message = DemoMessage(str(uuid.uuid4()), "+15558675499", "TEXT_DELIVERED", 0, push=True)
    assert AwsEumSimulator(events=events).push_demo("", message, {})
    events.put_events(Entries=[{"Source": "dlrhub", "DetailType": "Message status changed", "Detail": "{}"}])
    received: list[dict[str, Any]] = []
    for _ in range(20):  # bounded: moto delivers at once
        event_router.deliver(route, lambda event, _: received.append(event), sqs, print)
        if len(received) >= 2:
            break
    reports = [awseum.parse_event(event, "demo", NOW) for event in received]
    assert [(r.message_id, r.raw_status, r.status) for r in reports] == [
        (message.message_id, "TEXT_SUCCESSFUL", Status.SENT),
        (message.message_id, "TEXT_DELIVERED", Status.DELIVERED),
    ]  # and the hub's own "Message status changed" event did not match the rule
    assert json.loads(json.dumps(received[0]))["source"] == "aws.sms-voice"


def test_a_failing_handler_gets_the_event_again_then_it_is_dropped(bus: Any) -> None:
    events, sqs, routes = bus
    [route] = routes
    event_router.deliver(route, lambda *_: None, sqs, print)  # whatever an earlier test left
    assert AwsEumSimulator(events=events).push_demo("", DemoMessage(str(uuid.uuid4()), "", "TEXT_BLOCKED", 0, True), {})
    tries: list[str] = []
    lines: list[str] = []

    def failing(event: dict[str, Any], _: Any) -> None:
        tries.append(event["detail"]["messageId"])
        raise RuntimeError("table down")

    for _ in range(60):  # bounded: 3 tries, each after the queue's 2-second visibility timeout
        event_router.deliver(route, failing, sqs, lines.append)
        if len(tries) >= event_router.MAX_RECEIVES:
            break
        threading.Event().wait(0.25)
    assert len(tries) == event_router.MAX_RECEIVES
    assert "table down" in lines[-1]
    threading.Event().wait(event_router.RETRY_AFTER_SECONDS + 0.5)
    assert event_router.deliver(route, failing, sqs, lines.append) == 0  # dropped after the last try
