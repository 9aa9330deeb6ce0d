"""Twilio, Vonage and AWS End User Messaging SMS in the local stack, as a new user tries them.

A signed Twilio callback and a signed Vonage receipt over HTTP, and an AWS End User
Messaging event on the local bus (moto server's EventBridge, routed by the stack's event
router to the events function), are stored and read back through the customer API.
"""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import requests

from dlrhub_local.simulators.awseum import put_event
from dlrhub_local.simulators.twilio import callback_params
from dlrhub_local.simulators.twilio import sign as twilio_sign
from dlrhub_local.simulators.vonage import receipt
from tests.stack_process import StackProcess, local_stack
from tests.support import DUMMY_AWS, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    config = Path(tmp_path_factory.mktemp("providers")) / "local.json"
    with local_stack(config, "--no-demo", "--poll-every", "0", "--report-every", "0") as running:
        yield running


def try_command(stack: StackProcess, what: str) -> str:
    """The command the banner prints under ``# {what}``."""
    lines = [line.rstrip("\n") for line in stack.seen]
    index = next(i for i, line in enumerate(lines) if line.strip() == f"# {what}")
    return lines[index + 1].strip()


def run(command: str) -> str:
    result = subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def register(stack: StackProcess, provider: str, message_id: str, destination: str) -> None:
    body = {
        "messages": [
            {
                "provider": provider,
                "account": "demo",
                "message_id": message_id,
                "destination": destination,
                "submitted_at": datetime.now(UTC).isoformat(),
                "customer_ref": f"e2e-{provider}",
            }
        ]
    }
    reply = requests.post(f"{stack.url}/messages", json=body, timeout=10)
    assert reply.status_code == 200, reply.text


def test_the_banner_says_who_only_reports_in(stack: StackProcess) -> None:
    assert any("simulated providers that only report in: awseum, twilio, vonage" in line for line in stack.seen)
    assert not {"awseum", "twilio", "vonage"} & set(stack.simulators)  # they are never polled


def test_the_printed_try_commands_are_stored(stack: StackProcess) -> None:
    """As a new user: copy each printed command, run it, see the line, read the message back."""
    out = run(try_command(stack, "Twilio status callback, signed") + " -s -w ' %{http_code}'")
    assert out.strip() == "200"  # an empty body, as Twilio asks
    assert run(try_command(stack, "Vonage delivery receipt (GET), signed now") + " -s") == "OK"
    command = try_command(stack, "AWS End User Messaging SMS event on the local bus")
    eum_id = shlex.split(command)[3]
    assert "put on the bus" in run(command)
    stack.wait_for_lines(
        [
            r"stored\s+twilio/demo SM1342fe1b2c904d1ab04f0fc7a58abca9 -> DELIVERED \(raw 'delivered', webhook\)",
            r"stored\s+vonage/demo 0B00000127FDBC63 -> DELIVERED \(raw 'delivered', webhook\)",
            rf"stored\s+awseum/demo {eum_id} -> DELIVERED \(raw 'TEXT_DELIVERED', event\)",
        ]
    )
    for provider, message_id in (
        ("twilio", "SM1342fe1b2c904d1ab04f0fc7a58abca9"),
        ("vonage", "0B00000127FDBC63"),
        ("awseum", eum_id),
    ):
        view = stack.message(provider, message_id)
        assert view.status_code == 200, view.text
        assert (view.json()["status"], view.json()["final"]) == ("DELIVERED", True)


def test_signed_callbacks_and_an_event_of_registered_messages_read_back(stack: StackProcess) -> None:
    twilio_id = "SM" + uuid.uuid4().hex
    vonage_id = uuid.uuid4().hex[:16].upper()
    eum_id = str(uuid.uuid4())
    for provider, message_id, destination in (
        ("twilio", twilio_id, "+15558675320"),
        ("vonage", vonage_id, "447700900020"),
        ("awseum", eum_id, "+15558675321"),
    ):
        register(stack, provider, message_id, destination)

    url = stack.webhook_url("twilio")
    token = stack.account("twilio")["auth_token"]
    for status in ("sent", "undelivered"):
        params = callback_params(twilio_id, status, "+15558675320")
        reply = requests.post(
            url, data=params, headers={"X-Twilio-Signature": twilio_sign(url, params, token)}, timeout=10
        )
        assert (reply.status_code, reply.text) == (200, "")

    signed = receipt(vonage_id, "447700900020", "delivered", stack.account("vonage"))
    for _ in range(2):  # a receipt sent again is answered 200 too
        reply = requests.post(stack.webhook_url("vonage"), json=signed, timeout=10)
        assert (reply.status_code, reply.text) == (200, "OK")

    events = boto3.client("events", endpoint_url=stack.moto, region_name=DUMMY_AWS["AWS_REGION"])
    for event_type in ("TEXT_SUCCESSFUL", "TEXT_DELIVERED"):
        assert put_event(events, eum_id, event_type)

    stack.wait_for_lines(
        [
            rf"stored\s+twilio/demo {twilio_id} -> FAILED \(raw 'undelivered', webhook\)",
            rf"stored\s+vonage/demo {vonage_id} -> DELIVERED",
            rf"stored\s+awseum/demo {eum_id} -> DELIVERED \(raw 'TEXT_DELIVERED', event\)",
        ]
    )
    twilio = stack.message("twilio", twilio_id).json()
    assert (twilio["status"], twilio["raw_status"], twilio["customer_ref"]) == ("FAILED", "undelivered", "e2e-twilio")
    assert twilio["provider_details"]["ErrorCode"] == "30003"
    assert [h["raw_status"] for h in twilio["history"]] == ["sent", "undelivered"]
    assert twilio["cost"] is None  # Twilio's callbacks carry no price

    vonage = stack.message("vonage", vonage_id).json()
    assert (vonage["status"], vonage["customer_ref"], vonage["destination"]) == (
        "DELIVERED",
        "e2e-vonage",
        "447700900020",
    )
    assert vonage["cost"] == {"amount": "0.03330000", "currency": None, "parts": 1}
    assert len(vonage["history"]) == 1  # the second copy was a duplicate
    assert "sig" not in vonage["provider_details"]

    eum = stack.message("awseum", eum_id).json()
    assert (eum["status"], eum["raw_status"], eum["source"], eum["customer_ref"]) == (
        "DELIVERED",
        "TEXT_DELIVERED",
        "event",
        "e2e-awseum",
    )
    assert eum["cost"] == {"amount": "0.00881", "currency": "USD", "parts": 1}
    assert [h["raw_status"] for h in eum["history"]] == ["TEXT_SUCCESSFUL", "TEXT_DELIVERED"]


def test_wrong_and_stale_signatures_are_403_and_store_nothing(stack: StackProcess) -> None:
    url = stack.webhook_url("twilio")
    twilio_id = "SM" + uuid.uuid4().hex
    params = callback_params(twilio_id, "delivered", "+15558675330")
    wrong = twilio_sign(url, params, "not-the-auth-token-0123456789")
    assert requests.post(url, data=params, headers={"X-Twilio-Signature": wrong}, timeout=10).status_code == 403
    assert requests.post(url, data=params, timeout=10).status_code == 403  # unsigned: the demo account requires it

    vonage_id = uuid.uuid4().hex[:16].upper()
    keys = stack.account("vonage")
    stale = receipt(vonage_id, "447700900030", "delivered", keys, now=time.time() - timedelta(days=2).total_seconds())
    reply = requests.post(stack.webhook_url("vonage"), json=stale, timeout=10)
    assert (reply.status_code, "timestamp too old" in reply.text) == (403, True)
    forged = {**receipt(vonage_id, "447700900030", "delivered", keys), "status": "failed"}
    assert requests.get(stack.webhook_url("vonage"), params=forged, timeout=10).status_code == 403

    assert stack.message("twilio", twilio_id).status_code == 404
    assert stack.message("vonage", vonage_id).status_code == 404
