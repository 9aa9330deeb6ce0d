"""The stream batch handler on a real DynamoDB: counters exactly once, events published."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest

from dlrhub.events import EventPublisher
from dlrhub.stats_store import StatsStore
from dlrhub.stream import handle_batch
from dlrhub.table import message_key, to_item
from tests.support import create_table

_seq = itertools.count(100000000000000000001)


class RecordingPublisher(EventPublisher):
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, details: list[tuple[str, dict[str, Any]]]) -> None:
        self.published += details


def record(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    images: dict[str, Any] = {"SequenceNumber": str(next(_seq)), "NewImage": to_item(new)}
    if old:
        images["OldImage"] = to_item(old)
    return {"eventID": f"e{images['SequenceNumber']}", "dynamodb": images}


def message(mid: str, status: str, **extra: Any) -> dict[str, Any]:
    base = {
        **message_key("infin8linx", "demo", mid),
        "provider": "infin8linx",
        "account": "demo",
        "message_id": mid,
        "status": status,
        "registered_at": "2026-11-25T10:00:01.000Z",
        "submitted_at": "2026-11-25T10:00:00.000Z",
    }
    return base | extra


@pytest.fixture
def stats(dynamodb_endpoint: str) -> StatsStore:
    name = create_table(dynamodb_endpoint)
    return StatsStore(name, client=boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))


def counters(stats: StatsStore) -> dict[str, int]:
    from datetime import UTC, datetime

    [bucket] = stats.buckets(
        "infin8linx", "demo", datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)
    )
    return {k: v for k, v in bucket.items() if k != "bucket"}


def test_a_redelivered_batch_counts_nothing_twice(stats: StatsStore) -> None:
    publisher = RecordingPublisher()
    batch = [
        record({}, message("1", "PENDING")),
        record({}, message("2", "PENDING")),
        record(message("1", "PENDING"), message("1", "DELIVERED", received_at="2026-11-25T10:00:20.000Z")),
    ]
    first = handle_batch("shard-1", batch, publisher, stats)
    again = handle_batch("shard-1", batch, publisher, stats)
    halves = [handle_batch("shard-1", part, publisher, stats) for part in (batch[:1], batch[1:])]
    assert first.counted
    assert not again.counted
    assert not any(half.counted for half in halves)
    assert counters(stats) == {"submitted": 2, "delivered": 1, "lat_2": 1}
    assert [detail["status"] for _, detail in publisher.published[:3]] == ["PENDING", "PENDING", "DELIVERED"]
    assert all("destination" not in detail for _, detail in publisher.published)


def test_the_next_batch_and_other_shards_still_count(stats: StatsStore) -> None:
    publisher = RecordingPublisher()
    assert handle_batch("shard-1", [record({}, message("1", "PENDING"))], publisher, stats).counted
    assert handle_batch("shard-1", [record({}, message("2", "PENDING"))], publisher, stats).counted
    assert handle_batch("shard-2", [record({}, message("3", "PENDING"))], publisher, stats).counted
    assert counters(stats)["submitted"] == 3
