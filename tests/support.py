"""Helpers shared by the test suites (not fixtures: plain functions and data)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3

from dlrhub_local.template import Template

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
TEMPLATE = ROOT / "template.yaml"
SAMPLE_SECRET = "sample-secret-change-me"  # the secret the sample events carry (test data)

#: The InnoPaaS sample account's receiving credentials, as the sample events carry them (test data).
SAMPLE_RECEIVER = "sample-receiver"
SAMPLE_PSWD = "sample-pswd-change-me"

#: The Secrets Manager value of each provider's sample account (``{prefix}/{provider}/demo``).
SAMPLE_ACCOUNTS: dict[str, dict[str, str]] = {
    "infin8linx": {"webhook_secret": SAMPLE_SECRET},
    "webcom": {"webhook_secret": SAMPLE_SECRET, "utc_offset": "+03:00"},
    "innopaas": {"webhook_secret": SAMPLE_SECRET, "receiver": SAMPLE_RECEIVER, "pswd": SAMPLE_PSWD},
}


@dataclass(frozen=True)
class WebhookExpectation:
    """What one sample event must do."""

    http_status: int
    #: message id -> status stored; every other id the event carries must stay unstored.
    stored: dict[str, str] = field(default_factory=dict)
    #: Webcom: the ``id_sms`` values the reply acknowledges, in order (None: the reply is not a list).
    acknowledged: list[int | str] | None = None
    #: Words the reply body of a refused call must contain.
    reason: str = ""


WEBHOOK_EVENTS: dict[str, WebhookExpectation] = {
    "webhook_infin8linx_delivered.json": WebhookExpectation(200, {"36160109669": "DELIVERED"}),
    "webhook_infin8linx_pending.json": WebhookExpectation(200, {"36160109670": "PENDING"}),
    "webhook_infin8linx_failed.json": WebhookExpectation(200, {"36160109671": "FAILED"}),
    "webhook_infin8linx_wrong_secret.json": WebhookExpectation(403, reason="wrong secret"),
    "webhook_infin8linx_bad_state.json": WebhookExpectation(400, reason="state must be 0, 1 or 2"),
    "webhook_webcom_states.json": WebhookExpectation(
        200,
        {
            "3234": "DELIVERED",
            "3235": "PENDING",
            "3236": "READ",
            "3237": "FAILED",
            "3238": "EXPIRED",
            "3239": "PENDING",
        },
        acknowledged=[3234, 3235, 3236, 3237, 3238, 3239],
    ),
    "webhook_webcom_mixed.json": WebhookExpectation(
        200, {"3240": "DELIVERED", "3243": "FAILED"}, acknowledged=[3240, "3243"]
    ),
    "webhook_webcom_not_an_array.json": WebhookExpectation(400, reason="must be a JSON array"),
    "webhook_innopaas_seed_example.json": WebhookExpectation(200, {"627239445736452096": "DELIVERED"}),
    "webhook_innopaas_array.json": WebhookExpectation(
        200, {"627239445736452097": "FAILED", "627239445736452098": "REJECTED"}
    ),
    "webhook_innopaas_wrong_pswd.json": WebhookExpectation(403, reason="receiver/pswd do not match"),
    "webhook_innopaas_missing_msgid.json": WebhookExpectation(400, reason="msgid is missing"),
    "webhook_innopaas_unknown_status.json": WebhookExpectation(200, {"627239445736452101": "FAILED"}),
}


@dataclass(frozen=True)
class SentReport:
    """What a sample event says of one message, read from the event as the provider wrote it."""

    provider: str
    message_id: str
    raw_status: str | None
    destination: str | None
    fields: dict[str, Any]


DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def event_provider(event: dict[str, Any]) -> str:
    return event["pathParameters"]["provider"]


def event_body_items(event: dict[str, Any]) -> list[Any]:
    """The JSON body as a list of items (a single object is one item); [] without a JSON body."""
    try:
        body = json.loads(event.get("body") or "null")
    except json.JSONDecodeError:
        return []
    if body is None:
        return []
    return body if isinstance(body, list) else [body]


def sent_reports(event: dict[str, Any]) -> dict[str, SentReport]:
    """message id -> what the event carries for it (items without an id are left out)."""
    provider = event_provider(event)
    if provider == "infin8linx":
        query = {key: values[0] for key, values in parse_qs(event["rawQueryString"]).items()}
        items, id_key, word_key, number_key = [query], "msgid", "state", "das"
    elif provider == "webcom":
        items, id_key, word_key, number_key = event_body_items(event), "id_sms", "state", None  # no number
    elif provider == "innopaas":
        items, id_key, word_key, number_key = event_body_items(event), "msgid", "status", "mobile"
    else:
        raise ValueError(f"no sample reading for provider {provider!r}")
    found: dict[str, SentReport] = {}
    for item in items:
        if isinstance(item, dict) and item.get(id_key) is not None:
            message_id = str(item[id_key])
            number = item.get(number_key) if number_key else None
            found[message_id] = SentReport(provider, message_id, item.get(word_key), number, item)
    return found


def read_item(endpoint: str, table: str, provider: str, account: str, message_id: str) -> dict[str, Any] | None:
    """The stored message item as plain values (numbers are Decimal), or None."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    key = {"pk": f"MSG#{provider}#{account}#{message_id}", "sk": "MSG"}
    return dynamodb.Table(table).get_item(Key=key, ConsistentRead=True).get("Item")


def check_sample_reply(
    name: str, reply: dict[str, Any], read: Callable[[str, str], dict[str, Any] | None], context: str = ""
) -> None:
    """Assert that ``reply`` and the table (``read(provider, message_id)``) are what WEBHOOK_EVENTS says."""
    expected = WEBHOOK_EVENTS[name]
    event = load_event(name)
    sent = sent_reports(event)
    body = reply.get("body", "")
    assert reply.get("statusCode") == expected.http_status, f"{name}: {reply!r}{context}"
    assert set(expected.stored) <= set(sent), f"{name}: expectation names ids the event does not carry"
    if expected.http_status == 200:
        if expected.acknowledged is None:
            assert body == "OK", f"{name}: reply body {body!r}"
        else:
            assert json.loads(body) == [{"id_sms": ref} for ref in expected.acknowledged], f"{name}: {body!r}"
    else:
        assert not expected.stored, f"{name}: a refused call stores nothing"
        assert expected.reason in body, f"{name}: reply body {body!r}"
        assert "Traceback" not in body
    for message_id, report in sent.items():
        item = read(report.provider, message_id)
        if message_id not in expected.stored:
            assert item is None, f"{name}: {message_id} must not be stored, found {item!r}"
            continue
        assert item is not None, f"{name}: {message_id} not stored{context}"
        assert item["status"] == expected.stored[message_id], f"{name}: {message_id}"
        assert item["raw_status"] == report.raw_status
        assert item["source"] == "webhook"
        assert item.get("destination") == report.destination


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_table(endpoint: str, name: str | None = None) -> str:
    """A fresh messages table on ``endpoint``, defined exactly as template.yaml defines it."""
    name = name or unique_name("messages")
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    client.create_table(**Template(TEMPLATE).table_definition("MessagesTable", name))
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return name


def put_account_secret(endpoint: str, provider: str, account: str, value: dict[str, Any], prefix: str) -> None:
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    client.create_secret(Name=f"{prefix}/{provider}/{account}", SecretString=json.dumps(value))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def put_sample_accounts(endpoint: str, prefix: str, account: str = "demo") -> None:
    """Each provider's sample account (SAMPLE_ACCOUNTS) as the secret ``{prefix}/{provider}/{account}``."""
    for provider, value in SAMPLE_ACCOUNTS.items():
        put_account_secret(endpoint, provider, account, value, prefix)


def innopaas_seed_example(**changes: str) -> dict[str, str]:
    """Seed 003's example object, as events/webhook_innopaas_seed_example.json carries it, with ``changes``."""
    [body] = event_body_items(load_event("webhook_innopaas_seed_example.json"))
    return {**body, **changes}
