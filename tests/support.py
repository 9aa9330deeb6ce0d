"""Helpers shared by the test suites (not fixtures: plain functions and data)."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import boto3

from dlrhub.providers.contract import Provider
from dlrhub.providers.registry import PROVIDERS
from dlrhub.table.keys import message_key, read_message
from dlrhub_local.template import Template
from tests.samples import KEYS_OF, SAMPLES_OF, Sample

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
TEMPLATE = ROOT / "template.yaml"
SAMPLE_SECRET = "sample-secret-change-me"  # the secret every sample event's URL carries (test data)

#: Every webhook sample event of every registered provider: file name -> (provider, what it must do).
SAMPLES: dict[str, tuple[Provider, Sample]] = {
    sample.event: (provider, sample)
    for provider in PROVIDERS
    for sample in SAMPLES_OF[provider.name]
    if sample.is_webhook
}
#: Every EventBridge sample event (``eventbridge_*.json``) of every provider that takes events.
EVENT_SAMPLES: dict[str, tuple[Provider, Sample]] = {
    sample.event: (provider, sample)
    for provider in PROVIDERS
    for sample in SAMPLES_OF[provider.name]
    if not sample.is_webhook
}
#: The hub account EventBridge events belong to in the tests (the functions' EVENTS_ACCOUNT).
EVENTS_ACCOUNT = "demo"


def sample_account(provider: Provider) -> dict[str, str]:
    """The Secrets Manager value of a provider's sample account: what its sample events need."""
    return {"webhook_secret": SAMPLE_SECRET, **KEYS_OF[provider.name]}


DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def event_body_items(event: dict[str, Any]) -> list[Any]:
    """The JSON body as a list of items (a single object is one item); [] without a JSON body."""
    try:
        body = json.loads(event.get("body") or "null")
    except json.JSONDecodeError:
        return []
    if body is None:
        return []
    return body if isinstance(body, list) else [body]


def read_item(endpoint: str, table: str, provider: str, account: str, message_id: str) -> dict[str, Any] | None:
    """The stored message item as plain values (numbers are Decimal), history entries named, or None."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    key = message_key(provider, account, message_id)
    item = dynamodb.Table(table).get_item(Key=key, ConsistentRead=True).get("Item")
    return read_message(item) if item is not None else None


def check_sample_reply(
    name: str, reply: dict[str, Any], read: Callable[[str, str], dict[str, Any] | None], context: str = ""
) -> None:
    """Assert that ``reply`` and the table (``read(provider, message_id)``) are what the sample says."""
    provider, expected = SAMPLES[name]
    body = reply.get("body", "")
    assert reply.get("statusCode") == expected.status_code, f"{name}: {reply!r}{context}"
    if expected.status_code == 200:
        if expected.acknowledged is None:
            assert body == expected.body, f"{name}: reply body {body!r}"
        else:
            assert json.loads(body) == [{"id_sms": ref} for ref in expected.acknowledged], f"{name}: {body!r}"
    else:
        assert not expected.stored, f"{name}: a refused call stores nothing"
        assert expected.reason in body, f"{name}: reply body {body!r}"
        assert "Traceback" not in body
    for message_id in expected.not_stored:
        item = read(provider.name, message_id)
        assert item is None, f"{name}: {message_id} must not be stored, found {item!r}"
    for message_id, (status, raw, destination) in expected.stored.items():
        item = read(provider.name, message_id)
        assert item is not None, f"{name}: {message_id} not stored{context}"
        assert item["status"] == status, f"{name}: {message_id}"
        assert item["raw_status"] == raw
        assert item["source"] == "webhook"
        assert item.get("destination") == destination


def check_event_sample(
    name: str, result: dict[str, Any], read: Callable[[str, str], dict[str, Any] | None], context: str = ""
) -> None:
    """Assert that the events function's ``result`` and the table are what the EventBridge sample says:
    200 applied (or ignored, a duplicate), 400 dropped with the reason."""
    provider, expected = EVENT_SAMPLES[name]
    if expected.status_code == 200:
        assert result.get("outcome") in {"applied", "ignored"}, f"{name}: {result!r}{context}"
    else:
        assert result.get("outcome") == "rejected", f"{name}: {result!r}{context}"
        assert expected.reason in result.get("reason", ""), f"{name}: {result!r}"
    for message_id in expected.not_stored:
        assert read(provider.name, message_id) is None, f"{name}: {message_id} must not be stored"
    for message_id, (status, raw, destination) in expected.stored.items():
        item = read(provider.name, message_id)
        assert item is not None, f"{name}: {message_id} not stored{context}"
        assert (item["status"], item["raw_status"], item["source"]) == (status, raw, "event"), f"{name}: {item!r}"
        assert item.get("destination") == destination


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


def missing(message: str) -> NoReturn:
    """A part a test needs is not there: a failure in CI (``make test`` installs every part), a skip elsewhere."""
    import pytest  # here: the benchmark's runners import this module on an interpreter without pytest

    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def put_sample_accounts(endpoint: str, prefix: str, account: str = "demo") -> None:
    """Each webhook provider's sample account as the secret ``{prefix}/{provider}/{account}``."""
    for provider in PROVIDERS:
        if provider.webhook is not None:
            put_account_secret(endpoint, provider.name, account, sample_account(provider), prefix)


def innopaas_seed_example(**changes: str) -> dict[str, str]:
    """InnoPaaS's example report, as events/webhook_innopaas_seed_example.json carries it, with ``changes``."""
    [body] = event_body_items(load_event("webhook_innopaas_seed_example.json"))
    return {**body, **changes}


class LogCapture(logging.Handler):
    """Keeps the lines the service's loggers write, formatted as in Lambda (Powertools JSON)."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def captured_logs() -> Iterator[LogCapture]:
    """Every line of the ``dlrhub`` loggers while the block runs, DEBUG included (what a more
    verbose LogLevel would write must be as clean as the default)."""
    service_logger = logging.getLogger("dlrhub")
    capture = LogCapture(service_logger.handlers[0].formatter if service_logger.handlers else None)
    loggers = [logging.getLogger(name) for name in logging.root.manager.loggerDict if name.startswith("dlrhub")]
    levels = [one.level for one in loggers]
    service_logger.addHandler(capture)
    for one in loggers:
        one.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        service_logger.removeHandler(capture)
        for one, level in zip(loggers, levels, strict=True):
            one.setLevel(level)
