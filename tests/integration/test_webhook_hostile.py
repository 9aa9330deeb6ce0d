"""Unreadable and hostile callbacks: a 4xx with the reason, decided before any unearned work; never a 503."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from dlrhub_local.gateway import LambdaContext
from tests.support import SAMPLE_SECRET, load_event, read_item

Handler = Callable[[dict, Any], dict]


def invoke(handler: Handler, event: dict[str, Any], timeout_ms: int = 10_000) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return handler(event, LambdaContext("WebhookFunction", event["requestContext"]["requestId"], timeout_ms=timeout_ms))


def post(
    name: str, body: bytes, *, secret: str = SAMPLE_SECRET, content_type: str = "application/octet-stream"
) -> dict:
    """The sample POST ``name`` with ``body`` (base64, as API Gateway sends a binary body) and ``secret``."""
    event = load_event(name)
    path = event["rawPath"].rsplit("/", 1)[0] + "/" + secret
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"]["secret"] = secret
    event["headers"]["content-type"] = content_type
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def get_query(query: str) -> dict[str, Any]:
    event = load_event("webhook_infin8linx_delivered.json")
    event["rawQueryString"] = query
    event.pop("queryStringParameters", None)
    return event


@pytest.mark.parametrize("provider", ["webcom", "innopaas"])
def test_a_body_that_is_not_utf8_is_403_without_the_secret_and_400_with_it(
    webhook_handler: Handler, provider: str
) -> None:
    name = f"webhook_{provider}_{'states' if provider == 'webcom' else 'seed_example'}.json"
    refused = invoke(webhook_handler, post(name, b"\xff\xfe", secret="not-the-secret-0000000"))
    assert refused["statusCode"] == 403
    unreadable = invoke(webhook_handler, post(name, b"\xff\xfe"))
    assert (unreadable["statusCode"], unreadable["body"]) == (400, "the body is not UTF-8 text")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deep"),
        (b'[{"id_sms": ' + b"9" * 5000 + b', "state": "deliver"}]', "number is too long"),
        (b"[1, 2", "not JSON"),
        (b"\x00" * 10, "not JSON"),
    ],
)
def test_json_the_hub_cannot_read_is_400_with_the_reason(webhook_handler: Handler, body: bytes, reason: str) -> None:
    reply = invoke(webhook_handler, post("webhook_webcom_states.json", body, content_type="application/json"))
    assert reply["statusCode"] == 400
    assert reason in reply["body"]
    assert "Traceback" not in reply["body"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("msgid=abc%0A&state=1", "msgid must be"),
        ("msgid=abc&state=1%0A", "state must be"),
        ("msgid=abc&das=123%0A&state=1", "das must be"),
        ("msgid=abc&das=" + "1" * 21 + "&state=1", "das must be"),
        ("msgid=" + quote("é") + "&state=1", "msgid must be"),
        ("msgid=abc&msgid=abd&state=1", "more than once"),
    ],
)
def test_infin8linx_values_with_trailing_newlines_or_too_long_are_400(
    webhook_handler: Handler, moto_server: Any, table: str, query: str, reason: str
) -> None:
    reply = invoke(webhook_handler, get_query(query))
    assert reply["statusCode"] == 400, reply
    assert reason in reply["body"]
    for message_id in ("abc", "abc\n"):
        assert read_item(moto_server.endpoint, table, "infin8linx", "demo", message_id) is None


@pytest.mark.parametrize("field", ["pswd", "receiver"])
def test_innopaas_lone_surrogates_in_credentials_are_400(webhook_handler: Handler, field: str) -> None:
    """Not Unicode text, so not JSON the hub reads: refused before the credentials are compared."""
    event = load_event("webhook_innopaas_seed_example.json")
    body = json.loads(event["body"])
    body[field] = "\ud800"
    event["body"] = json.dumps(body)  # \\ud800 escaped: a lone surrogate once parsed
    reply = invoke(webhook_handler, event)
    assert (reply["statusCode"], reply["body"]) == (
        400,
        "the body is not JSON the hub reads: a string holds a lone surrogate",
    )


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("webhook_vonage_delivered_json.json", {"\udfff": "x"}),  # found by the proof suite: was 503
        ("webhook_vonage_delivered_json.json", {"client-ref": "\ud800"}),
        ("webhook_webcom_states.json", None),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_json_body_is_400(
    webhook_handler: Handler, moto_server: Any, table: str, name: str, change: dict[str, str] | None
) -> None:
    event = load_event(name)
    body = json.loads(event["body"])
    if change is None:  # Webcom: a detail the hub would store
        body[0]["extra"] = "\udcff"
    else:
        body.update(change)
    event["body"] = json.dumps(body)
    reply = invoke(webhook_handler, event)
    assert (reply["statusCode"], reply["body"]) == (
        400,
        "the body is not JSON the hub reads: a string holds a lone surrogate",
    )
    message_id = str(body[0]["id_sms"]) if isinstance(body, list) else body["messageId"]
    provider = "webcom" if isinstance(body, list) else "vonage"
    assert read_item(moto_server.endpoint, table, provider, "demo", message_id) is None


def test_a_surrogate_pair_is_text_and_taken(webhook_handler: Handler) -> None:
    event = load_event("webhook_webcom_states.json")
    body = json.loads(event["body"])
    body[0]["extra"] = "\U0001f600"  # escaped as a pair by json.dumps: one character once parsed
    event["body"] = json.dumps(body)
    assert invoke(webhook_handler, event)["statusCode"] == 200


def test_a_lone_surrogate_in_the_url_secret_is_403(webhook_handler: Handler) -> None:
    event = load_event("webhook_infin8linx_delivered.json")
    event["pathParameters"]["secret"] = "\udcff" * 24
    assert invoke(webhook_handler, event)["statusCode"] == 403


def test_a_webcom_batch_of_1000_is_stored_in_parallel_and_what_misses_the_deadline_is_left_out(
    webhook_handler: Handler, moto_server: Any, table: str
) -> None:
    event = load_event("webhook_webcom_states.json")
    items = [{"id_sms": 700000 + i, "time": "2021-04-26 15:15:03", "state": "deliver"} for i in range(1000)]
    event["body"] = json.dumps(items)
    reply = invoke(webhook_handler, event, timeout_ms=60_000)
    assert reply["statusCode"] == 200
    assert len(json.loads(reply["body"])) == 1000

    event["body"] = json.dumps([{**item, "id_sms": item["id_sms"] + 1000} for item in items[:50]])
    late = invoke(webhook_handler, event, timeout_ms=1_500)  # less than the reserve left: nothing is started
    assert (late["statusCode"], json.loads(late["body"])) == (200, [])
    assert read_item(moto_server.endpoint, table, "webcom", "demo", "701000") is None
