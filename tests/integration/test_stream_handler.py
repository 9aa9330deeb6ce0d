"""The stream function in-process, driven by events/ (the shape ``sam local generate-event
dynamodb update`` makes: no ``shardId``), against moto server over HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from dlrhub.services.stream import BatchMetrics, checkpoint_shard, metric_documents
from dlrhub.table.counters import StatsStore
from dlrhub.table.keys import message_key
from dlrhub_local.gateway import LambdaContext, load_handler
from dlrhub_local.template import Template
from tests.support import DUMMY_AWS, TEMPLATE, create_table, load_event

Handler = Callable[[dict, Any], dict]
GENERATED = "stream_generated_update.json"
DELIVERED = "stream_message_delivered.json"


@pytest.fixture
def table(moto_server: Any) -> str:
    return create_table(moto_server.endpoint)


@pytest.fixture
def handler(moto_server: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> Handler:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setenv("EVENT_BUS_NAME", "default")
    return load_handler(Template(TEMPLATE).functions()["StreamFunction"])


def invoke(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    return handler(event, LambdaContext("StreamFunction", str(uuid.uuid4())))


def counters(endpoint: str, table: str) -> dict[str, int]:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    found = StatsStore(table, client=client).buckets("infin8linx", "demo", start, start + timedelta(minutes=5))
    return {name: value for bucket in found for name, value in bucket.items() if name != "bucket"}


def test_generated_dynamodb_event_has_no_shard_and_is_accepted(handler: Handler) -> None:
    event = load_event(GENERATED)
    assert "shardId" not in event
    assert invoke(handler, event) == {"state": {}}


def test_message_event_without_shard_counts_once_per_stream(handler: Handler, moto_server: Any, table: str) -> None:
    event = load_event(DELIVERED)
    assert checkpoint_shard(event).startswith(event["Records"][0]["eventSourceARN"])
    invoke(handler, event)
    invoke(handler, event)  # delivered again: the stream's checkpoint refuses it
    assert counters(moto_server.endpoint, table) == {"submitted": 1, "delivered": 1, "lat_2": 1}


def test_metrics_carry_the_contracts_dimensions(
    handler: Handler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(handler, load_event(DELIVERED))
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    dimension_sets = {
        name["Name"]: [tuple(d) for d in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]]
        for doc in documents
        for name in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    assert dimension_sets["StatusChanges"] == [("service", "provider", "source")]
    for name in ("MessagesDelivered", "MessagesFailed", "SecondsToFinal", "DeliveryOutcome"):
        assert dimension_sets[name] == [("service", "provider"), ("service",)], name
    [final] = [doc for doc in documents if "SecondsToFinal" in doc]
    assert final["provider"] == "infin8linx"
    assert final["SecondsToFinal"] == [12.345]
    assert "628131565746" not in json.dumps(documents)


def test_metric_documents_split_by_provider_and_source() -> None:
    metrics = BatchMetrics()
    key = message_key("webcom", "demo", "82216")
    metrics.add({}, {**key, "source": "poll", "status": "PENDING"}, None)
    metrics.add({"status": "PENDING"}, {**key, "source": "poll", "status": "EXPIRED"}, None)
    metrics.add({"status": "DELIVERED"}, {**key, "source": "webhook", "status": "READ"}, None)
    documents = metric_documents(metrics, "DLRHub", "dlrhub-dev", 0)
    changes = {(d["provider"], d["source"]): d["StatusChanges"] for d in documents if "StatusChanges" in d}
    assert changes == {("webcom", "poll"): 2, ("webcom", "webhook"): 1}
    [finals] = [d for d in documents if "MessagesFailed" in d]
    assert (finals["MessagesDelivered"], finals["MessagesFailed"]) == (0, 1)  # READ after DELIVERED: not a first
    assert finals["DeliveryOutcome"] == [0]  # its Average is the delivery rate
    assert all(
        d["service"] == "dlrhub-dev" and d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "DLRHub" for d in documents
    )
