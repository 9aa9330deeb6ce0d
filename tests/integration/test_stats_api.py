"""GET /stats end to end: registrations and reports in the table, its stream through the
stream handler (as Lambda would feed it), then the statistics read back through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from dlrhub.adapters.bus import EventPublisher
from dlrhub.domain.registration import Registration
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.services.stream import handle_batch
from dlrhub.table.counters import StatsStore
from dlrhub.table.messages import MessageStore
from tests.integration.test_api_handler import body_of, invoke, request

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def handler(api_handler: Any) -> Any:
    return api_handler


class Recording(EventPublisher):
    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def publish(self, details: list[tuple[str, dict[str, Any]]]) -> None:
        self.details += [detail for _, detail in details]


def drain_stream(endpoint: str, table: str, stats: StatsStore, publisher: EventPublisher) -> int:
    """Every record of the table's stream through the stream handler, 50 at a time, per shard."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    handled = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(1000):
            reply = streams.get_records(ShardIterator=iterator, Limit=50)
            records = reply.get("Records", [])
            if not records:
                break
            handle_batch(shard["ShardId"], records, publisher, stats)
            handled += len(records)
            iterator = reply["NextShardIterator"]
    return handled


def report(mid: str, status: Status, after: timedelta) -> StatusReport:
    return StatusReport(
        provider="infin8linx",
        account="demo",
        message_id=mid,
        status=status,
        raw_status=status.value,
        received_at=T0 + after,
        source=Source.WEBHOOK,
    )


def test_stats_per_window_from_registrations_and_receipts(moto_server: Any, table: str, handler: Any) -> None:
    client = boto3.client("dynamodb", endpoint_url=moto_server.endpoint)
    store = MessageStore(table, client=client)
    stats = StatsStore(table, client=client)
    for minute, mid in [(1, "a"), (2, "b"), (3, "c"), (70, "d")]:
        reg = Registration(
            provider="infin8linx",
            account="demo",
            message_id=mid,
            destination="628131565746",
            submitted_at=T0 + timedelta(minutes=minute),
        )
        store.register(reg, T0 + timedelta(minutes=minute))
    store.apply(report("a", Status.DELIVERED, timedelta(minutes=1, seconds=20)))
    store.apply(report("a", Status.READ, timedelta(minutes=3)))  # still one success
    store.apply(report("b", Status.FAILED, timedelta(minutes=30)))
    store.apply(report("b", Status.DELIVERED, timedelta(minutes=31)))  # ignored: final is sticky
    store.apply(report("c", Status.EXPIRED, timedelta(minutes=50)))
    store.apply(report("x", Status.DELIVERED, timedelta(minutes=5)))  # never registered: not counted
    publisher = Recording()
    assert drain_stream(moto_server.endpoint, table, stats, publisher) >= 8
    assert drain_stream(moto_server.endpoint, table, stats, publisher) >= 8  # delivered again: no change

    reply = invoke(
        handler,
        request(
            "GET",
            "/stats",
            query={
                "provider": "infin8linx",
                "account": "demo",
                "from": "2026-11-25T10:00:00Z",
                "to": "2026-11-25T12:00:00Z",
            },
        ),
    )
    assert reply["statusCode"] == 200, reply["body"]
    first, second = body_of(reply)["windows"]
    assert (first["submitted"], first["delivered"], first["failed"], first["pending"]) == (3, 1, 2, 0)
    assert first["delivery_rate"] == pytest.approx(1 / 3)
    assert first["median_seconds_to_final"] == 1800  # 20 s, 28 min, 47 min: the median is in "<= 30 min"
    assert (second["submitted"], second["pending"], second["median_seconds_to_final"]) == (1, 1, None)
    assert {d["status"] for d in publisher.details} >= {"PENDING", "DELIVERED", "READ", "FAILED", "EXPIRED"}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"from": "2026-11-25T10:00:00", "to": "2026-11-25T12:00:00Z"}, "zone"),
        ({"from": "2026-11-25T12:00:00Z", "to": "2026-11-25T10:00:00Z"}, "after"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "window": "300"}, "744 windows"),
        ({"from": "0001-01-01T00:10:00Z", "to": "0001-01-01T03:00:00Z", "window": "2100"}, "1970"),
        ({"from": "2026-11-25T10:00:00Z", "to": "2026-11-25T12:00:00Z", "window": "301"}, "window"),
    ],
)
def test_bad_stats_queries_are_400_with_a_reason(handler: Any, query: dict[str, str], reason: str) -> None:
    reply = invoke(handler, request("GET", "/stats", query={"provider": "infin8linx", "account": "demo", **query}))
    assert reply["statusCode"] == 400
    assert reason in reply["body"]
