"""The webhook handler in-process, driven by events/, against moto server over HTTP."""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from dlrhub_local.gateway import LambdaContext, load_handler
from dlrhub_local.template import Template
from tests.support import (
    EVENTS,
    SAMPLE_SECRET,
    TEMPLATE,
    WEBHOOK_EVENTS,
    create_table,
    event_message_id,
    load_event,
    put_account_secret,
    unique_name,
)

Handler = Callable[[dict, Any], dict]


@pytest.fixture
def table(moto_server: Any) -> str:
    return create_table(moto_server.endpoint)


@pytest.fixture
def handler(moto_server: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> Handler:
    prefix = unique_name("handler")
    put_account_secret(moto_server.endpoint, "infin8linx", "demo", {"webhook_secret": SAMPLE_SECRET}, prefix)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setenv("SECRETS_PREFIX", prefix)
    return load_handler(Template(TEMPLATE).functions()["WebhookFunction"])


def invoke(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return handler(event, LambdaContext("WebhookFunction", event["requestContext"]["requestId"]))


def stored(endpoint: str, table: str, message_id: str) -> dict[str, Any] | None:
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    reply = client.get_item(TableName=table, Key={"pk": {"S": f"MSG#infin8linx#demo#{message_id}"}, "sk": {"S": "MSG"}})
    return reply.get("Item")


def with_query(event: dict[str, Any], query: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["rawQueryString"] = query
    event.pop("queryStringParameters", None)
    return event


def with_path(event: dict[str, Any], provider: str, account: str, secret: str, method: str = "GET") -> dict[str, Any]:
    event = copy.deepcopy(event)
    path = f"/webhooks/{provider}/{account}/{secret}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"provider": provider, "account": account, "secret": secret}
    event["requestContext"]["http"]["method"] = method
    return event


def test_every_sample_event_has_an_expectation() -> None:
    assert {p.name for p in EVENTS.glob("webhook_*.json")} == set(WEBHOOK_EVENTS)


@pytest.mark.parametrize(("name", "expected"), WEBHOOK_EVENTS.items())
def test_sample_events(handler: Handler, moto_server: Any, table: str, name: str, expected: tuple) -> None:
    status_code, status = expected
    event = load_event(name)
    reply = invoke(handler, event)
    assert reply["statusCode"] == status_code, reply["body"]
    item = stored(moto_server.endpoint, table, event_message_id(event))
    if status is None:
        assert item is None
        assert "Traceback" not in reply["body"]
    else:
        assert item["status"]["S"] == status
        assert reply["body"] == "OK"


def test_duplicates_and_out_of_order_callbacks_get_200_and_follow_the_rules(
    handler: Handler, moto_server: Any, table: str
) -> None:
    delivered = load_event("webhook_infin8linx_delivered.json")
    late_pending = with_query(delivered, "msgid=36160109669&das=628131565746&state=0")
    for event in (delivered, delivered, late_pending, delivered):
        assert invoke(handler, event)["statusCode"] == 200
    item = stored(moto_server.endpoint, table, "36160109669")
    assert item["status"]["S"] == "DELIVERED"
    assert len(item["history"]["L"]) == 1


@pytest.mark.parametrize(
    ("provider", "account", "secret", "method", "status_code"),
    [
        ("nosuch", "demo", SAMPLE_SECRET, "GET", 404),
        ("infin8linx", "demo", SAMPLE_SECRET, "POST", 405),
        ("infin8linx", "other", SAMPLE_SECRET, "GET", 403),
        ("infin8linx", "de mo;", SAMPLE_SECRET, "GET", 403),
        ("infin8linx", "demo", "", "GET", 404),  # no secret: no route matches
        ("infin8linx", "demo", SAMPLE_SECRET[:-1], "GET", 403),
    ],
)
def test_refused_calls_store_nothing(
    handler: Handler,
    moto_server: Any,
    table: str,
    provider: str,
    account: str,
    secret: str,
    method: str,
    status_code: int,
) -> None:
    event = with_path(load_event("webhook_infin8linx_delivered.json"), provider, account, secret, method)
    reply = invoke(handler, event)
    assert reply["statusCode"] == status_code
    assert stored(moto_server.endpoint, table, "36160109669") is None


def test_secret_store_down_is_503_not_403(handler: Handler, monkeypatch: pytest.MonkeyPatch) -> None:
    event = with_path(load_event("webhook_infin8linx_delivered.json"), "infin8linx", "never-cached", SAMPLE_SECRET)
    monkeypatch.setattr("dlrhub.accounts.AccountDirectory.get", _raise_unavailable)
    reply = invoke(handler, event)
    assert reply["statusCode"] == 503
    assert "try again" in reply["body"]


def _raise_unavailable(*_: Any) -> None:
    from dlrhub.accounts import AccountUnavailable

    raise AccountUnavailable("cannot read")


def test_table_down_is_503_and_the_provider_retries(handler: Handler, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    def failing(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "UpdateItem")

    monkeypatch.setattr("dlrhub.store.MessageStore.apply", failing)
    reply = invoke(handler, load_event("webhook_infin8linx_delivered.json"))
    assert reply["statusCode"] == 503
    assert "Throughput" not in reply["body"]


class Capture(logging.Handler):
    """Formats records with the service logger's own (Powertools JSON) formatter."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_logs_carry_no_secret_and_no_phone_number(handler: Handler) -> None:
    service_logger = logging.getLogger("dlrhub")
    capture = Capture(service_logger.handlers[0].formatter)
    service_logger.addHandler(capture)
    try:
        for name in WEBHOOK_EVENTS:
            invoke(handler, load_event(name))
    finally:
        service_logger.removeHandler(capture)
    text = "\n".join(capture.lines)
    assert "report applied" in text  # the logs were captured at all
    assert "callback refused" in text
    assert "callback rejected" in text
    assert SAMPLE_SECRET not in text
    assert "not-the-secret" not in text
    for name in WEBHOOK_EVENTS:
        das = load_event(name)["rawQueryString"].split("das=")[1].split("&")[0]
        assert das not in text
    assert json.loads(capture.lines[0])["service"] == "dlrhub"
