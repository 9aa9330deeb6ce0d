"""The customer API handler in-process, driven by events/api_*.json, against moto server over HTTP."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import pytest
from botocore.exceptions import ClientError

from dlrhub.domain.registration import MAX_BATCH
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.table.keys import message_key, typed_key
from dlrhub.table.messages import MessageStore
from dlrhub_local.gateway import LambdaContext
from tests.api_support import API_EVENTS, BATCH, check_api_sample, registration_item, split_key
from tests.support import EVENTS, load_event

Handler = Callable[[dict, Any], dict]
DAY = {"from": "2026-11-25T00:00:00Z", "to": "2026-11-26T00:00:00Z"}


@pytest.fixture
def client(moto_server: Any) -> Any:
    return boto3.client("dynamodb", endpoint_url=moto_server.endpoint)


@pytest.fixture
def handler(api_handler: Handler) -> Handler:
    return api_handler


def invoke(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return handler(event, LambdaContext("ApiFunction", event["requestContext"]["requestId"]))


def request(
    method: str,
    route: str,
    params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """An API Gateway v2 event for ``route``, with the IAM authorizer block of the sample events.

    ``body``: text is sent as it is, anything else as JSON.
    """
    event = load_event("api_get_message.json")
    path = route
    for name, value in (params or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = params or {}
    event["rawQueryString"] = urlencode(query or {})
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["headers"]["content-type"] = content_type
    return event


def register(items: Any) -> dict[str, Any]:
    return request("POST", "/messages", body={"messages": items})


def list_account(query: dict[str, str], provider: str = "infin8linx", account: str = "demo") -> dict[str, Any]:
    params = {"provider": provider, "account": account}
    return request("GET", "/accounts/{provider}/{account}/messages", params, query)


def list_ref(ref: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    return request("GET", "/refs/{customer_ref}/messages", {"customer_ref": ref}, query)


def body_of(reply: dict[str, Any]) -> Any:
    assert reply["headers"]["Content-Type"] == "application/json", reply
    return json.loads(reply["body"])


def stored_status(client: Any, table: str, key: str) -> str | None:
    reply = client.get_item(TableName=table, Key=typed_key(message_key(*split_key(key))))
    return reply["Item"]["status"]["S"] if "Item" in reply else None


def count_items(client: Any, table: str) -> int:
    pages = client.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(page["Count"] for page in pages)


def assert_client_error(reply: dict[str, Any], status_code: int, words: str) -> dict[str, Any]:
    """A 4xx with a reason in words, and nothing of the code's insides."""
    assert reply["statusCode"] == status_code, reply["body"]
    body = body_of(reply)
    assert words.lower() in body["message"].lower(), body
    assert "Traceback" not in reply["body"]
    assert 'File "' not in reply["body"]
    return body


# --- the sample events --------------------------------------------------------------------


def test_every_api_event_has_an_expectation() -> None:
    assert {p.name for p in EVENTS.glob("api_*.json")} == set(API_EVENTS)


def test_sample_events_carry_the_iam_authorizer_block() -> None:
    for name in API_EVENTS:
        event = load_event(name)
        iam = event["requestContext"]["authorizer"]["iam"]
        assert {"accessKey", "accountId", "callerId", "principalOrgId", "userArn", "userId"} <= set(iam), name
        assert iam["principalOrgId"] is None
        assert event["routeKey"] == event["requestContext"]["routeKey"]
        assert event["rawPath"] == event["requestContext"]["http"]["path"]


@pytest.mark.parametrize("name", sorted(API_EVENTS))
def test_sample_events(handler: Handler, client: Any, table: str, name: str) -> None:
    check_api_sample(name, lambda event: invoke(handler, event), lambda key: stored_status(client, table, key))


def test_status_filter_of_the_sample_listing_leaves_out_other_statuses(
    handler: Handler, client: Any, table: str
) -> None:
    assert invoke(handler, load_event(BATCH))["statusCode"] == 200
    store = MessageStore(table, client=client)
    now = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    store.apply(
        StatusReport(
            provider="infin8linx",
            account="demo",
            message_id="36160109701",
            status=Status.DELIVERED,
            raw_status="1",
            received_at=now,
            source=Source.WEBHOOK,
        )
    )
    body = body_of(invoke(handler, load_event("api_list_by_account_status.json")))
    assert [item["message_id"] for item in body["items"]] == ["36160109700"]
    delivered = body_of(invoke(handler, list_account({**DAY, "status": "DELIVERED"})))
    assert [(item["message_id"], item["final"]) for item in delivered["items"]] == [("36160109701", True)]


# --- POST /messages -----------------------------------------------------------------------

MALFORMED: dict[str, tuple[Any, str]] = {
    # name: (body, words the reason must contain)
    "not JSON": ("{messages: [", "json"),
    "no body": (None, "body"),
    "messages missing": ({"msgs": [registration_item("m1")]}, "messages"),
    "messages not a list": ({"messages": {"0": registration_item("m1")}}, "messages"),
    "no messages": ({"messages": []}, "messages"),
    f"{MAX_BATCH + 1} messages": ({"messages": [registration_item(f"m{i}") for i in range(MAX_BATCH + 1)]}, "500"),
    "a list, not an object": ([registration_item("m1")], "body"),
}


@pytest.mark.parametrize(("body", "words"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_body_is_400_with_a_reason_and_stores_nothing(
    handler: Handler, client: Any, table: str, body: Any, words: str
) -> None:
    event = request("POST", "/messages", body=body)
    assert_client_error(invoke(handler, event), 400, words)
    assert count_items(client, table) == 0


@pytest.mark.parametrize(
    ("content_type", "status_code"),
    [
        ("text/plain", 415),
        ("application/xml", 415),
        ("multipart/form-data", 415),  # no boundary: Powertools raises a bare ValueError
        ("multipart/form-data; boundary=x", 400),  # parsed as a form: no messages field
        ("application/x-www-form-urlencoded", 400),
        ("application/json; charset=utf-8", 200),
    ],
)
def test_body_content_type(handler: Handler, client: Any, table: str, content_type: str, status_code: int) -> None:
    event = request("POST", "/messages", body={"messages": [registration_item("typed")]}, content_type=content_type)
    reply = invoke(handler, event)
    assert reply["statusCode"] == status_code, reply["body"]
    if status_code == 415:
        assert_client_error(reply, 415, "json")
    assert count_items(client, table) == (1 if status_code == 200 else 0)


def test_bad_items_are_named_and_the_good_ones_stored(handler: Handler, client: Any, table: str) -> None:
    items = [
        registration_item("good-0"),
        registration_item("bad-1", provider="nosuch"),
        registration_item("good-2", provider="huawei", customer_ref="c-1"),
        registration_item("bad-3", submitted_at="2026-11-25T10:00:00"),
        "not an item",
        registration_item("bad-5", destination="call me"),
        registration_item("good-6", parts=3),
    ]
    reply = invoke(handler, register(items))
    assert reply["statusCode"] == 422
    body = body_of(reply)
    assert (body["registered"], body["rejected"]) == (3, 4)
    assert [(e["index"], e.get("message_id")) for e in body["errors"]] == [
        (1, "bad-1"),
        (3, "bad-3"),
        (4, None),
        (5, "bad-5"),
    ]
    reasons = [e["reason"] for e in body["errors"]]
    assert "provider" in reasons[0]
    assert "timezone" in reasons[1]
    assert "destination" in reasons[3]
    for key in ("infin8linx/demo/good-0", "huawei/demo/good-2", "infin8linx/demo/good-6"):
        assert stored_status(client, table, key) == "PENDING", key
    for key in ("nosuch/demo/bad-1", "infin8linx/demo/bad-3", "infin8linx/demo/bad-5"):
        assert stored_status(client, table, key) is None, key
    assert count_items(client, table) == 3


def test_registering_again_is_200_and_counted_as_already_registered(handler: Handler) -> None:
    items = [registration_item(f"again-{i}", minute=i) for i in range(3)]
    assert body_of(invoke(handler, register(items)))["registered"] == 3
    again = invoke(handler, register([*items, registration_item("again-new")]))
    assert again["statusCode"] == 200
    assert {k: body_of(again)[k] for k in ("registered", "already_registered", "rejected")} == {
        "registered": 1,
        "already_registered": 3,
        "rejected": 0,
    }


def test_a_full_batch_is_registered(handler: Handler, client: Any, table: str) -> None:
    items = [registration_item(f"bulk-{i:03d}", minute=i, customer_ref="bulk") for i in range(MAX_BATCH)]
    reply = invoke(handler, register(items))
    assert reply["statusCode"] == 200, reply["body"]
    assert body_of(reply)["registered"] == MAX_BATCH
    assert count_items(client, table) == MAX_BATCH


# --- reads --------------------------------------------------------------------------------


def test_unknown_message_is_404(handler: Handler) -> None:
    params = {"provider": "infin8linx", "account": "demo", "message_id": "never-registered"}
    reply = invoke(handler, request("GET", "/messages/{provider}/{account}/{message_id}", params))
    assert_client_error(reply, 404, "no such message")


def test_bad_cursors_are_400(handler: Handler) -> None:
    invoke(handler, load_event(BATCH))
    by_ref = body_of(invoke(handler, list_ref("order-1001", {"limit": "1"})))["next_cursor"]
    by_account = body_of(invoke(handler, list_account({**DAY, "limit": "1"})))["next_cursor"]
    assert by_ref
    assert by_account
    for event in (
        list_ref("order-1001", {"cursor": "not-a-cursor!"}),
        list_ref("order-1001", {"cursor": by_account}),
        list_ref("other-ref", {"cursor": by_ref}),
        list_account({**DAY, "cursor": "not-a-cursor!"}),
        list_account({**DAY, "cursor": by_ref}),
        list_account({**DAY, "cursor": by_account}, account="other"),
    ):
        assert_client_error(invoke(handler, event), 400, "cursor")
    follow = body_of(invoke(handler, list_ref("order-1001", {"cursor": by_ref})))  # the genuine one still works
    assert [item["message_id"] for item in follow["items"]] == ["36160109701", "82216"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"from": "2026-11-25T10:00:00Z", "to": "2026-11-25T10:00:00Z"}, "after"),
        ({"from": "2026-11-26T00:00:00Z", "to": "2026-11-25T00:00:00Z"}, "after"),
        ({"from": "2026-11-25T12:00:00+02:00", "to": "2026-11-25T10:00:00Z"}, "after"),  # same instant
        ({"from": "2026-11-25T00:00:00", "to": "2026-11-26T00:00:00Z"}, "zone"),
        ({"from": "2026-11-25T00:00:00Z", "to": "2026-11-26T00:00:00"}, "zone"),
        ({"from": "yesterday", "to": "2026-11-26T00:00:00Z"}, "from"),
        ({"to": "2026-11-26T00:00:00Z"}, "from"),
        ({"from": "0001-01-01T00:00:00+01:00", "to": "2026-11-26T00:00:00Z"}, "years 1 to 9999"),
        ({"from": "2026-11-25T00:00:00Z", "to": "9999-12-31T23:00:00-05:00"}, "years 1 to 9999"),
        ({**DAY, "status": "LOST"}, "status"),
        ({**DAY, "limit": "0"}, "limit"),
        ({**DAY, "limit": "101"}, "limit"),
        ({**DAY, "limit": "ten"}, "limit"),
    ],
)
def test_bad_listing_queries_are_400(handler: Handler, query: dict[str, str], words: str) -> None:
    assert_client_error(invoke(handler, list_account(query)), 400, words)


def test_times_before_year_1000_list_in_order(handler: Handler) -> None:
    """Stored times are fixed-width text: a range from year 500 still holds 2026 (not "500-..." > "2026-...")."""
    assert invoke(handler, load_event(BATCH))["statusCode"] == 200
    body = body_of(invoke(handler, list_account({"from": "0500-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"})))
    assert [item["message_id"] for item in body["items"]] == ["36160109700", "36160109701"]


def test_submitted_at_beyond_utc_is_a_bad_item_not_a_failure(handler: Handler, client: Any, table: str) -> None:
    items = [registration_item("in-range"), registration_item("beyond", submitted_at="9999-12-31T23:00:00-05:00")]
    reply = invoke(handler, register(items))
    assert reply["statusCode"] == 422
    assert [(e["index"], e["message_id"]) for e in body_of(reply)["errors"]] == [(1, "beyond")]
    assert stored_status(client, table, "infin8linx/demo/in-range") == "PENDING"


# --- the table failing --------------------------------------------------------------------


@pytest.mark.parametrize("name", API_EVENTS)
def test_table_failure_is_503_without_details_and_counted(
    handler: Handler, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    def failing(*_: Any, **__: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "secret-internals"}}, "Op"
        )

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", failing)
    capsys.readouterr()
    reply = invoke(handler, load_event(name))
    assert reply["statusCode"] == 503
    assert body_of(reply) == {"message": "temporarily unavailable, try again"}
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert sorted(doc.get("cause", "-") for doc in printed if "Unavailable" in doc) == ["-", "throttled"]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deep"),
        ('{"messages": [{"parts": ' + "9" * 5000 + "}]}", "number is too long"),
    ],
)
def test_json_too_deep_or_with_too_long_numbers_is_400(
    handler: Handler, client: Any, table: str, raw: str, words: str
) -> None:
    event = request("POST", "/messages", body={"messages": []})
    event["body"] = raw
    assert_client_error(invoke(handler, event), 400, words)
    assert count_items(client, table) == 0


def test_a_cursor_nested_too_deep_is_400(handler: Handler) -> None:
    cursor = base64.urlsafe_b64encode(("[" * 768 + "]" * 768).encode()).decode()  # the longest cursor taken
    assert len(cursor) == 2048
    assert_client_error(invoke(handler, list_ref("order-1", {"cursor": cursor})), 400, "cursor")
