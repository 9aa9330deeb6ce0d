"""Local customer callbacks: events published to (moto's) EventBridge reach a real HTTP receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import jsonschema
import pytest

from dlrhub.adapters.bus import EventPublisher
from dlrhub.services.stream import status_change
from dlrhub.table.keys import message_key
from dlrhub_local.callbacks import CallbackAuth, DeliverySettings, describe, start_callback_delivery
from dlrhub_local.processes import LOOPBACK, Server
from tests.support import DUMMY_AWS, ROOT

SCHEMA = json.loads((ROOT / "docs" / "events" / "status-changed.v1.schema.json").read_text())
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/dlrhub-local-messages"
SECRET = "test-callback-key"  # test data
FAST = DeliverySettings(max_age=20, first_delay=0.05, max_delay=0.2, timeout=2)


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1 answering each POST with the next scripted status (then 200)."""

    script: list[int] = field(default_factory=list)
    calls: list[tuple[dict[str, str], dict[str, Any], int]] = field(default_factory=list)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = state.script.pop(0) if state.script else 200
            state.calls.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}/hooks/dlr?token=abc"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def aws(moto_server: Server) -> dict[str, Any]:
    region = DUMMY_AWS["AWS_REGION"]
    return {
        "events_client": boto3.client("events", endpoint_url=moto_server.endpoint, region_name=region),
        "sqs_client": boto3.client("sqs", endpoint_url=moto_server.endpoint, region_name=region),
    }


def message(status: str, previous: str | None = None, message_id: str = "90000000001") -> dict[str, Any]:
    item = {
        **message_key("infin8linx", "demo", message_id),
        "status": status,
        "destination": "628131565746",
        "received_at": "2026-11-25T10:00:12.345Z",
        "event_time": "2026-11-25T10:00:12.345Z",
        "source": "webhook",
    }
    detail = status_change({"status": previous} if previous else {}, item)
    assert detail is not None
    return detail


@pytest.fixture
def delivery(aws: dict[str, Any], receiver: Receiver) -> Iterator[tuple[list[str], threading.Event]]:
    lines: list[str] = []
    stop = threading.Event()
    yield lines, stop
    stop.set()


def test_final_status_reaches_the_url_with_its_key_after_a_retry(
    aws: dict[str, Any], receiver: Receiver, delivery: tuple[list[str], threading.Event]
) -> None:
    lines, stop = delivery
    receiver.script = [503]
    auth = CallbackAuth("API_KEY", "x-api-key", SECRET)
    thread = start_callback_delivery(
        receiver.url, auth, True, lines.append, stop, table_arn=TABLE_ARN, settings=FAST, **aws
    )
    publisher = EventPublisher("default", client=aws["events_client"])
    publisher.resources = [TABLE_ARN]
    publisher.publish([("e1", message("PENDING")), ("e2", message("DELIVERED", "PENDING"))])
    publisher.resources = [TABLE_ARN.replace("dlrhub-local", "other")]
    publisher.publish([("e3", message("FAILED", message_id="90000000002"))])
    receiver.wait_for(2)
    time.sleep(0.5)  # nothing else may come
    assert [status for _, _, status in receiver.calls] == [503, 200]
    headers, body, _ = receiver.calls[-1]
    assert headers["x-api-key"] == SECRET
    assert headers["content-type"].startswith("application/json")
    assert body["id"] == "e2"
    assert body["final"] is True
    jsonschema.validate(body, SCHEMA)
    assert thread.is_alive()
    log = "\n".join(lines)
    assert "infin8linx/demo 90000000001 DELIVERED (final) -> 200 after 2 attempt(s)" in log
    assert SECRET not in log
    assert "token=abc" not in log
    assert "628131565746" not in log


def test_every_change_with_basic_auth_and_a_refused_one_is_not_retried(
    aws: dict[str, Any], receiver: Receiver, delivery: tuple[list[str], threading.Event]
) -> None:
    lines, stop = delivery
    receiver.script = [400]
    auth = CallbackAuth("BASIC", "hub", SECRET)
    start_callback_delivery(receiver.url, auth, False, lines.append, stop, settings=FAST, **aws)
    publisher = EventPublisher("default", client=aws["events_client"])
    publisher.resources = [TABLE_ARN]
    publisher.publish([("e1", message("PENDING"))])
    receiver.wait_for(1)
    publisher.publish([("e2", message("DELIVERED", "PENDING"))])
    receiver.wait_for(2)
    assert [(body["id"], status) for _, body, status in receiver.calls] == [("e1", 400), ("e2", 200)]
    assert receiver.calls[0][0]["authorization"].startswith("Basic ")
    assert any("gave up on infin8linx/demo 90000000001 PENDING: HTTP 400, 1 attempt(s)" in line for line in lines)


def test_an_endpoint_that_never_answers_is_given_up_after_the_maximum_age(
    aws: dict[str, Any], delivery: tuple[list[str], threading.Event]
) -> None:
    lines, stop = delivery
    settings = DeliverySettings(max_age=1.0, first_delay=0.1, max_delay=0.2, timeout=0.5)
    url = f"http://{LOOPBACK}:9/nothing-listens"  # the discard port: connection refused
    start_callback_delivery(url, CallbackAuth(), False, lines.append, stop, settings=settings, **aws)
    EventPublisher("default", client=aws["events_client"]).publish([("e1", message("PENDING"))])
    deadline = time.monotonic() + 15
    while not any("gave up" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any("gave up on infin8linx/demo 90000000001 PENDING: no answer" in line for line in lines), lines
    # every retry was told as it was scheduled, numbered against the retries the backoff fits in max_age
    retries = [line.split("callback    ", 1)[1] for line in lines if "callback    retry" in line]
    assert settings.retries == 5
    assert [line.split(" in ")[0] for line in retries] == [f"retry {n} of 5" for n in range(1, 6)], lines
    assert all(line.endswith(": infin8linx/demo 90000000001 PENDING: no answer") for line in retries), retries
    assert "gave up on infin8linx/demo 90000000001 PENDING: no answer, 6 attempt(s)" in lines[-1]


@pytest.mark.parametrize(
    ("settings", "retries"),
    [
        (DeliverySettings(), 24),  # 0.5, 1, 2, 4, 8, 16 s, then 30 s: 24 retries fit in 600 s
        (DeliverySettings(max_age=1.0, first_delay=0.1, max_delay=0.2), 5),
        (DeliverySettings(max_age=10_000.0, max_attempts=185), 184),  # the deployed rule's ceiling
    ],
)
def test_the_retries_are_what_the_backoff_fits_in_the_maximum_age(settings: DeliverySettings, retries: int) -> None:
    assert settings.retries == retries
    waited = sum(settings.delay(n) for n in range(1, retries + 1))
    assert waited <= settings.max_age
    assert retries == settings.max_attempts - 1 or waited + settings.delay(retries + 1) > settings.max_age


def test_log_lines_name_ids_and_status_only() -> None:
    assert describe(message("DELIVERED", "PENDING")) == "infin8linx/demo 90000000001 DELIVERED (final)"
