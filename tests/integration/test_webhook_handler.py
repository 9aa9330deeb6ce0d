"""The webhook handler in-process, driven by events/, against moto server over HTTP."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from dlrhub_local.gateway import LambdaContext
from tests.aws_shapes import access_denied, client_error, throttled
from tests.samples import KEYS_OF
from tests.support import (
    EVENTS,
    SAMPLE_SECRET,
    SAMPLES,
    captured_logs,
    check_sample_reply,
    event_body_items,
    load_event,
    read_item,
)

Handler = Callable[[dict, Any], dict]
INNOPAAS_KEYS = KEYS_OF["innopaas"]


@pytest.fixture
def handler(webhook_handler: Handler) -> Handler:
    return webhook_handler


def invoke(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return handler(event, LambdaContext("WebhookFunction", event["requestContext"]["requestId"]))


def stored(endpoint: str, table: str, message_id: str, provider: str = "infin8linx") -> dict[str, Any] | None:
    return read_item(endpoint, table, provider, "demo", message_id)


def with_query(event: dict[str, Any], query: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["rawQueryString"] = query
    event.pop("queryStringParameters", None)
    return event


def with_path(event: dict[str, Any], provider: str, account: str, secret: str, method: str = "GET") -> dict[str, Any]:
    event = copy.deepcopy(event)
    path = f"/webhooks/{provider}/{account}" + (f"/{secret}" if secret else "")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"provider": provider, "account": account} | ({"secret": secret} if secret else {})
    event["requestContext"]["http"]["method"] = method
    return event


def test_every_sample_event_has_an_expectation() -> None:
    assert {p.name for p in EVENTS.glob("webhook_*.json")} == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_events(handler: Handler, moto_server: Any, table: str, name: str) -> None:
    reply = invoke(handler, load_event(name))
    check_sample_reply(
        name, reply, lambda provider, message_id: stored(moto_server.endpoint, table, message_id, provider)
    )


def test_duplicates_and_out_of_order_callbacks_get_200_and_follow_the_rules(
    handler: Handler, moto_server: Any, table: str
) -> None:
    delivered = load_event("webhook_infin8linx_delivered.json")
    late_pending = with_query(delivered, "msgid=36160109669&das=628131565746&state=0")
    for event in (delivered, delivered, late_pending, delivered):
        assert invoke(handler, event)["statusCode"] == 200
    item = stored(moto_server.endpoint, table, "36160109669")
    assert item["status"] == "DELIVERED"
    assert len(item["history"]) == 1


@pytest.mark.parametrize(
    ("provider", "account", "secret", "method", "status_code"),
    [
        ("nosuch", "demo", SAMPLE_SECRET, "GET", 404),
        ("infin8linx", "demo", SAMPLE_SECRET, "POST", 405),
        ("infin8linx", "other", SAMPLE_SECRET, "GET", 403),
        ("infin8linx", "de mo;", SAMPLE_SECRET, "GET", 403),
        ("infin8linx", "demo", "", "GET", 403),  # no secret at all
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
    monkeypatch.setattr("dlrhub.adapters.secrets.AccountDirectory.get", _raise_unavailable)
    reply = invoke(handler, event)
    assert reply["statusCode"] == 503
    assert "try again" in reply["body"]


def _raise_unavailable(*_: Any) -> None:
    from dlrhub.adapters.secrets import AccountUnavailable

    raise AccountUnavailable("cannot read")


def test_table_down_is_503_and_the_provider_retries(handler: Handler, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    def failing(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "UpdateItem")

    monkeypatch.setattr("dlrhub.table.messages.MessageStore.apply", failing)
    reply = invoke(handler, load_event("webhook_infin8linx_delivered.json"))
    assert reply["statusCode"] == 503
    assert "Throughput" not in reply["body"]


def _items(event: dict[str, Any], id_key: str) -> dict[str, dict[str, Any]]:
    """The event body's items by the provider's id field."""
    return {str(item[id_key]): item for item in event_body_items(event) if isinstance(item, dict) and id_key in item}


#: Webcom's zone-less times of webhook_webcom_states.json read at the account's +03:00, in UTC.
WEBCOM_PROVIDER_TIMES = {
    "3234": "2011-01-01T09:57:46.000Z",
    "3235": None,  # state "send" comes with an empty time
    "3236": "2021-04-26T12:15:03.000Z",
    "3237": "2021-04-26T12:16:10.000Z",
    "3238": "2021-04-27T00:00:00.000Z",
    "3239": "2021-04-26T12:17:45.000Z",
}


def test_webcom_states_are_stored_with_every_field_as_given(handler: Handler, moto_server: Any, table: str) -> None:
    event = load_event("webhook_webcom_states.json")
    assert invoke(handler, event)["statusCode"] == 200
    items = _items(event, "id_sms")
    assert set(items) == set(WEBCOM_PROVIDER_TIMES)
    for message_id, sent in items.items():
        item = stored(moto_server.endpoint, table, message_id, "webcom")
        assert item is not None, message_id
        assert item["raw_status"] == sent["state"]
        assert item.get("provider_time") == WEBCOM_PROVIDER_TIMES[message_id]
        assert item["event_time"] == (WEBCOM_PROVIDER_TIMES[message_id] or item["received_at"])
        assert item["provider_details"] == {"time": sent["time"], "state": sent["state"]}
        assert "destination" not in item  # Webcom does not send the number
        assert [entry["raw_status"] for entry in item["history"]] == [sent["state"]]
        assert ("pending_pk" in item) == (item["status"] == "PENDING")


def test_innopaas_seed_example_is_stored_with_every_field_as_given(
    handler: Handler, moto_server: Any, table: str
) -> None:
    event = load_event("webhook_innopaas_seed_example.json")
    assert invoke(handler, event)["statusCode"] == 200
    [(message_id, sent)] = _items(event, "msgid").items()
    item = stored(moto_server.endpoint, table, message_id, "innopaas")
    assert item is not None
    assert item["status"] == "DELIVERED"
    assert item["raw_status"] == "DELIVRD"
    assert item["provider_time"] == "2025-06-10T08:52:20.967Z"  # reportTime 1749545540967 (ms)
    assert item["destination"] == sent["mobile"] == "8618888888888"
    not_details = {"receiver", "pswd", "msgid", "mobile", "status"}
    assert item["provider_details"] == {key: value for key, value in sent.items() if key not in not_details}
    assert item["cost"] == {"amount": "0.0567", "currency": "CNY", "parts": 1}
    assert "pending_pk" not in item
    text = json.dumps(item, default=str)
    assert INNOPAAS_KEYS["pswd"] not in text
    assert INNOPAAS_KEYS["receiver"] not in text


def test_webcom_item_that_fails_to_store_is_left_out_of_the_acknowledgement(
    handler: Handler, moto_server: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlrhub.table.messages import MessageStore

    original = MessageStore.apply

    def apply_but_3236(store: MessageStore, report: Any) -> Any:
        if report.message_id == "3236":
            raise ConnectionError("table unreachable for this one")
        return original(store, report)

    monkeypatch.setattr(MessageStore, "apply", apply_but_3236)
    reply = invoke(handler, load_event("webhook_webcom_states.json"))
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"]) == [{"id_sms": i} for i in (3234, 3235, 3237, 3238, 3239)]
    assert stored(moto_server.endpoint, table, "3236", "webcom") is None
    for message_id in ("3234", "3235", "3237", "3238", "3239"):
        assert stored(moto_server.endpoint, table, message_id, "webcom") is not None


def test_innopaas_store_failure_is_503_so_the_push_is_retried(
    handler: Handler, moto_server: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """InnoPaaS acknowledges the whole call, so one report not stored fails the call."""

    def failing(*_: Any, **__: Any) -> None:
        raise ConnectionError("table unreachable")

    monkeypatch.setattr("dlrhub.table.messages.MessageStore.apply", failing)
    reply = invoke(handler, load_event("webhook_innopaas_array.json"))
    assert reply["statusCode"] == 503
    assert "unreachable" not in reply["body"]


@pytest.mark.parametrize(
    "changes",
    [
        {"pswd": "not-the-pswd"},
        {"receiver": "someone-else"},
        {"pswd": ""},
        {"receiver": "", "pswd": ""},
        {"pswd": None},
        {"pswd": INNOPAAS_KEYS["pswd"] + " "},
    ],
)
def test_innopaas_wrong_credentials_are_403_and_store_nothing(
    handler: Handler, moto_server: Any, table: str, changes: dict[str, Any]
) -> None:
    event = load_event("webhook_innopaas_seed_example.json")
    [body] = event_body_items(event)
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}
    event["body"] = json.dumps(body)
    reply = invoke(handler, event)
    assert reply["statusCode"] == 403
    assert "receiver/pswd" in reply["body"]
    assert stored(moto_server.endpoint, table, body["msgid"], "innopaas") is None


@pytest.mark.parametrize("name", ["webhook_webcom_states.json", "webhook_innopaas_seed_example.json"])
def test_duplicate_pushes_get_200_and_change_nothing(handler: Handler, moto_server: Any, table: str, name: str) -> None:
    event = load_event(name)
    replies = [invoke(handler, event) for _ in range(3)]
    assert len({(reply["statusCode"], reply["body"]) for reply in replies}) == 1
    check_sample_reply(name, replies[-1], lambda provider, mid: stored(moto_server.endpoint, table, mid, provider))
    provider, sample = SAMPLES[name]
    for message_id in sample.stored:
        item = stored(moto_server.endpoint, table, message_id, provider.name)
        assert item is not None
        # a copy is a duplicate, even a time-less PENDING (Webcom "send") dated on receipt
        assert len(item["history"]) == 1, message_id


def test_logs_carry_no_secret_no_credentials_and_no_phone_number(handler: Handler) -> None:
    with captured_logs() as capture:
        for name in SAMPLES:
            invoke(handler, load_event(name))
    text = capture.text
    assert "report applied" in text  # the logs were captured at all
    assert "callback refused" in text
    assert "callback rejected" in text
    assert "callback item rejected" in text
    assert SAMPLE_SECRET not in text
    assert "not-the-secret" not in text
    private = {value for _, sample in SAMPLES.values() for value in sample.private}
    private |= {dest for _, sample in SAMPLES.values() for _, _, dest in sample.stored.values() if dest}
    private |= {
        value for provider, _ in SAMPLES.values() for value in KEYS_OF[provider.name].values() if isinstance(value, str)
    }
    assert len(private) >= 14  # every Infin8linx das and InnoPaaS mobile and credential of the samples
    for secret in sorted(private):
        assert secret not in text
    assert json.loads(capture.lines[0])["service"] == "dlrhub"


def unavailable_causes(printed: str) -> list[str]:
    """The ``cause`` of every ``Unavailable`` metric the handler printed (EMF documents)."""
    documents = [json.loads(line) for line in printed.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [doc.get("cause", "-") for doc in documents if "Unavailable" in doc]


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (throttled(), "throttled"),
        (access_denied(), "denied"),
        (EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"), "unreachable"),
        (client_error("InternalServerError", "Internal server error", "UpdateItem", 500), "other"),
    ],
)
def test_every_503_is_counted_with_its_cause(
    handler: Handler, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception, cause: str
) -> None:
    """The table refusing as AWS does (its error shapes): 503, and Unavailable counted (Lambda's
    Errors stay 0, as the function answered), once in total and once by cause."""

    def failing(*_: Any, **__: Any) -> None:
        raise error

    monkeypatch.setattr("dlrhub.table.messages.MessageStore._update", failing)
    capsys.readouterr()
    reply = invoke(handler, load_event("webhook_infin8linx_delivered.json"))
    assert reply["statusCode"] == 503
    assert sorted(unavailable_causes(capsys.readouterr().out)) == sorted(["-", cause])


def test_the_secret_store_down_is_counted_as_unavailable(
    handler: Handler, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = with_path(load_event("webhook_infin8linx_delivered.json"), "infin8linx", "not-cached-2", SAMPLE_SECRET)
    monkeypatch.setattr("dlrhub.adapters.secrets.AccountDirectory.get", _raise_unavailable)
    capsys.readouterr()
    assert invoke(handler, event)["statusCode"] == 503
    assert sorted(unavailable_causes(capsys.readouterr().out)) == ["-", "secrets"]
