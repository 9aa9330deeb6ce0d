"""What the stream function publishes, from a real table's stream, against the v1 JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest

from dlrhub.adapters.bus import EventPublisher
from dlrhub.services.stream import handle_batch
from dlrhub.table.counters import StatsStore
from dlrhub.table.messages import MessageStore
from tests.stream_support import DESTINATION, REGION, CapturingEvents, read_stream, write_story
from tests.support import ROOT, create_table

SCHEMA = json.loads((ROOT / "docs" / "events" / "status-changed.v1.schema.json").read_text())


@pytest.fixture
def published(dynamodb_endpoint: str) -> tuple[list[dict[str, Any]], str]:
    """(PutEvents entries, stream ARN) for the story's stream records, handled as one batch."""
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)
    table = create_table(dynamodb_endpoint)
    write_story(MessageStore(table, client=client))
    stream = read_stream(dynamodb_endpoint, table)
    events = CapturingEvents()
    handle_batch(
        stream.shard, stream.records, EventPublisher("default", client=events), StatsStore(table, client=client)
    )
    return events.entries, stream.arn


def test_every_published_event_matches_the_v1_schema(published: tuple[list[dict[str, Any]], str]) -> None:
    entries, _ = published
    assert len(entries) == 6  # m1: PENDING, DELIVERED, READ; m2: PENDING, FAILED; m3: REJECTED
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for entry in entries:
        errors = sorted(validator.iter_errors(json.loads(entry["Detail"])), key=str)
        assert not errors, [error.message for error in errors]


def test_events_say_final_parts_cost_and_times(published: tuple[list[dict[str, Any]], str]) -> None:
    entries, arn = published
    details = [json.loads(entry["Detail"]) for entry in entries]
    by_status = {(d["message_id"], d["status"]): d for d in details}
    delivered = by_status[("m1", "DELIVERED")]
    assert delivered["final"] is True
    assert delivered["previous_status"] == "PENDING"
    assert delivered["parts"] == 2
    assert delivered["cost"] == {"amount": "0.0567", "currency": "CNY"}
    assert delivered["provider_time"] == "2026-11-25T10:00:19.000Z"
    assert delivered["submitted_at"] == "2026-11-25T10:00:00.000Z"
    assert delivered["customer_ref"] == "order-1"
    assert by_status[("m1", "PENDING")]["final"] is False
    assert by_status[("m2", "FAILED")]["source"] == "poll"
    assert by_status[("m3", "REJECTED")]["submitted_at"] is None
    assert {entry["Resources"][0] for entry in entries} == {arn.split("/stream/")[0]}
    assert all(detail["version"] == "1" and detail["id"] for detail in details)


def test_no_phone_number_in_any_event(published: tuple[list[dict[str, Any]], str]) -> None:
    entries, _ = published
    for entry in entries:
        assert DESTINATION not in json.dumps(entry)
        assert "destination" not in entry["Detail"]


def test_events_switched_off_publish_nothing_and_still_count(dynamodb_endpoint: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)
    table = create_table(dynamodb_endpoint)
    write_story(MessageStore(table, client=client))
    stream = read_stream(dynamodb_endpoint, table)
    outcome = handle_batch(stream.shard, stream.records, None, StatsStore(table, client=client))
    assert outcome.events == 0
    assert outcome.counted
    assert outcome.metrics.delivered == {"innopaas": 1}
    assert outcome.metrics.failed == {"innopaas": 2}  # m2 FAILED, m3 REJECTED (never registered)
    assert outcome.metrics.seconds_to_final == {"innopaas": [20.0, 30.0]}


def test_schema_file_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert Path(ROOT / "docs" / "events" / "status-changed.v1.schema.json").is_file()
