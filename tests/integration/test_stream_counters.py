"""The stream batch handler on a real DynamoDB: counters exactly once, events published."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dlrhub.adapters.bus import EventPublisher
from dlrhub.services.stream import handle_batch
from dlrhub.table.counters import StatsStore
from dlrhub.table.keys import message_key, to_item
from tests.aws_shapes import ConflictingDynamoDB, transaction_conflict
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


# --- several shards at once: what DynamoDB Local cannot show (tests/aws_shapes.py) ---------


class FlakyTransactions:
    """A client refusing the first ``times`` transactions as AWS does for a conflict."""

    def __init__(self, client: Any, times: int) -> None:
        self._client, self.left, self.calls = client, times, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.left:
            self.left -= 1
            raise transaction_conflict(["None"] + ["TransactionConflict"] * (len(kwargs["TransactItems"]) - 1))
        return self._client.transact_write_items(**kwargs)


def test_a_conflict_is_tried_again_then_counted_once(stats: StatsStore) -> None:
    flaky = FlakyTransactions(stats.client, times=2)
    store = StatsStore(stats._table, client=flaky, sleep=lambda _: None)
    batch = [record({}, message("c1", "PENDING"))]
    assert handle_batch("shard-c", batch, None, store).counted
    assert (flaky.calls, store.conflicts) == (3, 2)
    assert counters(stats) == {"submitted": 1}


def test_conflicts_that_go_on_fail_the_batch_before_anything_is_published(stats: StatsStore) -> None:
    flaky = FlakyTransactions(stats.client, times=100)
    store = StatsStore(stats._table, client=flaky, sleep=lambda _: None)
    publisher = RecordingPublisher()
    with pytest.raises(ClientError) as raised:
        handle_batch("shard-c", [record({}, message("c2", "PENDING"))], publisher, store)
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert publisher.published == []  # the retried batch publishes once, when it counts


def test_shards_counting_one_bucket_at_once_never_share_an_item(stats: StatsStore) -> None:
    """Eight shards, each 40 batches into the same account and bucket, at once, through a client that
    refuses clashing transactions as AWS does: none clash, and the sum is exact."""
    emulator = ConflictingDynamoDB(stats.client, hold=0.002)
    store = StatsStore(stats._table, client=emulator)
    published = RecordingPublisher()

    def shard(number: int) -> None:
        for batch in range(40):
            mid = f"s{number}-{batch}"
            records = [record({}, message(mid, "PENDING")), record(message(mid, "PENDING"), message(mid, "FAILED"))]
            assert handle_batch(f"shardId-{number:04d}", records, published, store).counted

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(shard, range(8)))
    assert (emulator.conflicts, emulator.shared) == (0, 0)
    assert emulator.transactions == 8 * 40
    assert counters(stats) == {"submitted": 320, "failed": 320}
    assert len(published.published) == len({event_id for event_id, _ in published.published}) == 640


def test_the_emulator_finds_the_clash_of_one_shared_counter(stats: StatsStore) -> None:
    """Guard of the test above: the same load on one shared item (today's main) conflicts."""
    emulator = ConflictingDynamoDB(stats.client, hold=0.002)
    store = StatsStore(stats._table, client=emulator, sleep=lambda _: None)

    def shard(number: int) -> int:
        failures = 0
        for batch in range(40):
            records = [record({}, message(f"x{number}-{batch}", "PENDING"))]
            try:
                handle_batch("one-shared-slot", records, None, store)  # every thread writes one item
            except ClientError:
                failures += 1
        return failures

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(shard, range(8)))
    assert emulator.conflicts > 0
