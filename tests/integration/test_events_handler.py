"""The events function in-process, driven by events/eventbridge_*.json, against moto server over HTTP."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from dlrhub_local.gateway import LambdaContext
from tests.integration.test_api_handler import invoke as api_invoke
from tests.integration.test_api_handler import request
from tests.support import (
    EVENT_SAMPLES,
    EVENTS,
    EVENTS_ACCOUNT,
    captured_logs,
    check_event_sample,
    load_event,
    read_item,
)

Handler = Callable[[dict, Any], dict]
DELIVERED = "eventbridge_awseum_delivered.json"
SUCCESSFUL = "eventbridge_awseum_successful.json"


@pytest.fixture
def handler(load_function: Callable[..., Handler]) -> Handler:
    return load_function("EventsInFunction", EVENTS_ACCOUNT=EVENTS_ACCOUNT)


def invoke(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    return handler(copy.deepcopy(event), LambdaContext("EventsInFunction", str(uuid.uuid4())))


def stored(endpoint: str, table: str, message_id: str) -> dict[str, Any] | None:
    return read_item(endpoint, table, "awseum", EVENTS_ACCOUNT, message_id)


def with_detail(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["id"] = str(uuid.uuid4())
    event["detail"].update(changes)
    return event


def test_every_eventbridge_sample_has_an_expectation() -> None:
    assert {path.name for path in EVENTS.glob("eventbridge_*.json")} == set(EVENT_SAMPLES)


@pytest.mark.parametrize("name", sorted(EVENT_SAMPLES))
def test_sample_events(handler: Handler, moto_server: Any, table: str, name: str) -> None:
    result = invoke(handler, load_event(name))
    check_event_sample(
        name,
        result,
        lambda provider, message_id: read_item(moto_server.endpoint, table, provider, EVENTS_ACCOUNT, message_id),
    )


def test_the_documented_event_is_stored_with_every_field(handler: Handler, moto_server: Any, table: str) -> None:
    event = load_event(DELIVERED)
    assert invoke(handler, event)["outcome"] == "applied"
    item = stored(moto_server.endpoint, table, "9539975a-e71f-45f3-b496-8d98dc098a77")
    assert item is not None
    assert (item["status"], item["raw_status"], item["source"]) == ("DELIVERED", "TEXT_DELIVERED", "event")
    assert item["provider_time"] == "2024-10-16T17:21:39.998Z"  # eventTimestamp 1729099299998 (ms)
    assert item["cost"] == {"amount": "0.00881", "currency": "USD", "parts": 1}  # price 0.00581 + carrier fee 0.003
    details = item["provider_details"]
    assert details["totalMessagePrice"] == "0.00581"
    assert details["totalCarrierFee"] == "0.003"
    assert (details["mcc"], details["mnc"], details["carrierName"]) == ("310", "800", "T-mobile USA Inc.")
    assert (details["isFinal"], details["eventTimestamp"]) == ("true", "1729099299998")
    assert details["event.id"] == event["id"]
    assert "pending_pk" not in item


def test_a_second_delivery_of_the_same_event_changes_nothing(handler: Handler, moto_server: Any, table: str) -> None:
    event = load_event(SUCCESSFUL)
    assert [invoke(handler, event)["outcome"] for _ in range(3)] == ["applied", "ignored", "ignored"]
    item = stored(moto_server.endpoint, table, "ed23196c-75ce-4727-93ee-7bf72b64998f")
    assert item is not None
    assert len(item["history"]) == 1


@pytest.mark.parametrize("order", ["in order", "delivered first"])
def test_successful_then_delivered_ends_delivered_in_any_order(
    handler: Handler, moto_server: Any, table: str, order: str
) -> None:
    """TEXT_SUCCESSFUL comes with isFinal: true and is followed by TEXT_DELIVERED: the DELIVERED is never lost."""
    message_id = str(uuid.uuid4())
    successful = with_detail(load_event(SUCCESSFUL), messageId=message_id, eventTimestamp=1759342841377)
    delivered = with_detail(load_event(DELIVERED), messageId=message_id, eventTimestamp=1759342900000)
    events = [successful, delivered] if order == "in order" else [delivered, successful]
    outcomes = [invoke(handler, event)["outcome"] for event in events]
    assert outcomes == (["applied", "applied"] if order == "in order" else ["applied", "ignored"])
    item = stored(moto_server.endpoint, table, message_id)
    assert item is not None
    assert (item["status"], item["raw_status"]) == ("DELIVERED", "TEXT_DELIVERED")


def test_a_transient_failure_is_replaced_by_the_final_word(handler: Handler, moto_server: Any, table: str) -> None:
    message_id = str(uuid.uuid4())
    base = load_event(DELIVERED)
    for word, final, stamp in (("TEXT_CARRIER_UNREACHABLE", False, 1), ("TEXT_UNREACHABLE", True, 2)):
        invoke(
            handler,
            with_detail(base, messageId=message_id, eventType=word, isFinal=final, eventTimestamp=10**12 + stamp),
        )
    item = stored(moto_server.endpoint, table, message_id)
    assert item is not None
    assert (item["status"], item["raw_status"]) == ("FAILED", "TEXT_UNREACHABLE")
    assert [entry["status"] for entry in item["history"]] == ["PENDING", "FAILED"]


def test_an_event_of_another_source_is_dropped(handler: Handler, moto_server: Any, table: str) -> None:
    event = load_event(DELIVERED)
    event["source"] = "dlrhub"  # the hub's own "Message status changed" events are not reports
    result = invoke(handler, event)
    assert result["outcome"] == "rejected"
    assert stored(moto_server.endpoint, table, event["detail"]["messageId"]) is None


def test_a_store_failure_raises_so_lambda_retries_the_event(handler: Handler, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    def failing(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "UpdateItem")

    monkeypatch.setattr("dlrhub.table.messages.MessageStore.apply", failing)
    with pytest.raises(ClientError):
        invoke(handler, load_event(DELIVERED))


def test_a_registered_message_reads_back_through_the_customer_api(
    handler: Handler, api_handler: Handler, moto_server: Any, table: str
) -> None:
    message_id = str(uuid.uuid4())  # SendTextMessage's MessageId: a UUID fits the hub's identifier
    registration = {
        "provider": "awseum",
        "account": EVENTS_ACCOUNT,
        "message_id": message_id,
        "destination": "+14255550156",
        "submitted_at": datetime.now(UTC).isoformat(),
        "customer_ref": "eum-order-1",
    }
    reply = api_invoke(api_handler, request("POST", "/messages", body={"messages": [registration]}))
    assert reply["statusCode"] == 200, reply
    invoke(handler, with_detail(load_event(DELIVERED), messageId=message_id))
    params = {"provider": "awseum", "account": EVENTS_ACCOUNT, "message_id": message_id}
    view = api_invoke(api_handler, request("GET", "/messages/{provider}/{account}/{message_id}", params))
    assert view["statusCode"] == 200, view
    body = json.loads(view["body"])
    assert (body["status"], body["final"], body["raw_status"], body["source"]) == (
        "DELIVERED",
        True,
        "TEXT_DELIVERED",
        "event",
    )
    assert body["customer_ref"] == "eum-order-1"
    assert body["destination"] == "+14255550156"
    assert body["cost"] == {"amount": "0.00881", "currency": "USD", "parts": 1}


def test_logs_carry_no_phone_number(handler: Handler) -> None:
    with captured_logs() as capture:
        for name in EVENT_SAMPLES:
            invoke(handler, load_event(name))
    text = capture.text
    assert "report applied" in text
    assert "event dropped: malformed" in text
    for name in EVENT_SAMPLES:
        detail = load_event(name)["detail"]
        for key in ("originationPhoneNumber", "destinationPhoneNumber"):
            if str(detail.get(key, "")).startswith("+"):
                assert detail[key] not in text
