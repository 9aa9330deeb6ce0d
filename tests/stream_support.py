"""Real stream records of a table (moto server or DynamoDB Local), shaped as Lambda delivers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from dlrhub.domain.registration import Registration
from dlrhub.domain.report import Cost, Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.table.messages import MessageStore
from tests.support import DUMMY_AWS

REGION = DUMMY_AWS["AWS_REGION"]
DESTINATION = "628131565746"  # test data: a phone number that must never reach an event


@dataclass
class StreamRead:
    arn: str
    shard: str
    records: list[dict[str, Any]]


def lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it over (ARN added, the creation time a number)."""
    images = dict(record["dynamodb"])
    created = images.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        images["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": images, "eventSourceARN": arn}


def read_stream(endpoint: str, table: str, limit: int = 1000) -> StreamRead:
    """Every record of the table's (first) shard, from the start."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    position, records = iterator["ShardIterator"], []
    for _ in range(20):  # bounded: a few empty pages end it
        reply = streams.get_records(ShardIterator=position, Limit=limit)
        records += [lambda_record(record, arn) for record in reply.get("Records", [])]
        position = reply.get("NextShardIterator")
        if not position or (not reply.get("Records") and records):
            break
    return StreamRead(arn, shard, records)


def report(message_id: str, status: Status, raw: str, at: datetime, **extra: Any) -> StatusReport:
    return StatusReport(
        provider=extra.pop("provider", "innopaas"),
        account="demo",
        message_id=message_id,
        status=status,
        raw_status=raw,
        received_at=at,
        source=extra.pop("source", Source.WEBHOOK),
        destination=DESTINATION,
        **extra,
    )


def registration(message_id: str, submitted: datetime, **extra: Any) -> Registration:
    return Registration(
        provider=extra.pop("provider", "innopaas"),
        account="demo",
        message_id=message_id,
        destination=DESTINATION,
        submitted_at=submitted,
        **extra,
    )


def write_story(store: MessageStore) -> None:
    """A few messages' lives: registered, pending, delivered with a cost, read, failed, never registered."""
    t0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
    at = lambda seconds: t0.replace(second=seconds % 60, minute=seconds // 60)  # noqa: E731
    store.register(registration("m1", t0, parts=2, customer_ref="order-1"), at(1))
    store.apply(report("m1", Status.PENDING, "ACCEPTD", at(2)))
    cost = Cost(amount="0.0567", currency="CNY", parts=2)
    store.apply(report("m1", Status.DELIVERED, "DELIVRD", at(20), provider_time=at(19), cost=cost))
    store.apply(report("m1", Status.READ, "READ", at(40)))
    store.register(registration("m2", t0), at(3))
    store.apply(report("m2", Status.FAILED, "UNDELIV", at(30), source=Source.POLL))
    store.apply(report("m3", Status.REJECTED, "REJECTD", at(31)))  # never registered


@dataclass
class CapturingEvents:
    """A stand-in EventBridge client: keeps every PutEvents entry, accepts them all."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(len(Entries))]}
