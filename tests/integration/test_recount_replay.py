"""Nothing dropped silently: counters rebuilt from the items, parked stream batches replayed.

The table and its stream on DynamoDB Local, the failure queue on moto server (SQS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from dlrhub.adapters.bus import EventPublisher
from dlrhub.services.stream import handle_batch
from dlrhub.table.counters import StatsStore
from dlrhub.table.messages import MessageStore
from dlrhub.table.recount import Recounter, count_items
from dlrhub_local.processes import Server
from dlrhub_tools import recount as recount_cli
from dlrhub_tools import replay as replay_cli
from dlrhub_tools.replay import ParkedBatch, Replayer, run
from tests.stream_support import REGION, CapturingEvents, StreamRead, read_stream, write_story
from tests.support import create_table, unique_name

DAY = (datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC))
#: What the stream function counts for the story (tests/stream_support.write_story), bucket 10:00.
FULL = {"submitted": 2, "delivered": 1, "failed": 1, "lat_2": 2}


@dataclass
class Story:
    endpoint: str
    table: str
    client: Any
    stream: StreamRead

    def counters(self) -> dict[str, int]:
        [bucket] = StatsStore(self.table, client=self.client).buckets("innopaas", "demo", *DAY) or [{}]
        return {name: value for name, value in bucket.items() if name != "bucket"}


@pytest.fixture
def story(dynamodb_local: Server) -> Story:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint, region_name=REGION)
    table = create_table(dynamodb_local.endpoint)
    write_story(MessageStore(table, client=client))
    return Story(dynamodb_local.endpoint, table, client, read_stream(dynamodb_local.endpoint, table))


@pytest.fixture
def queue(moto_server: Server) -> Iterator[tuple[Any, str]]:
    sqs = boto3.client("sqs", endpoint_url=moto_server.endpoint, region_name=REGION)
    url = sqs.create_queue(QueueName=unique_name("stream-failures"))["QueueUrl"]
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)


def park(sqs: Any, url: str, stream: StreamRead, records: list[dict[str, Any]], **changes: str) -> None:
    """What Lambda sends to the on-failure destination for a batch it gave up on."""

    def arrival(record: dict[str, Any]) -> str:
        return datetime.fromtimestamp(record["dynamodb"]["ApproximateCreationDateTime"], UTC).isoformat()

    info = {
        "shardId": stream.shard,
        "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
        "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
        "approximateArrivalOfFirstRecord": arrival(records[0]),
        "approximateArrivalOfLastRecord": arrival(records[-1]),
        "batchSize": len(records),
        "streamArn": stream.arn,
    } | changes
    body = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 21},
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-25T10:05:00.000Z",
        "DDBStreamBatchInfo": info,
    }
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def lose_middle(story: Story) -> list[dict[str, Any]]:
    """The stream function handles the first and last records; the middle batch is parked."""
    records = story.stream.records
    assert len(records) >= 6
    lost = records[2:5]
    stats = StatsStore(story.table, client=story.client)
    for part in (records[:2], records[5:]):
        handle_batch(story.stream.shard, part, None, stats)
    assert story.counters() != FULL
    return lost


def status_of(record: dict[str, Any], image: str) -> str | None:
    return record["dynamodb"].get(image, {}).get("status", {}).get("S")


#: A pointer whose records are gone, its arrival times those of the story's reports.
EXPIRED = {
    "shardId": "shardId-00000000000000000000-gone0000",
    "approximateArrivalOfFirstRecord": "2026-11-25T10:00:15Z",
    "approximateArrivalOfLastRecord": "2026-11-25T10:00:35Z",
}


def replayer(story: Story, events: CapturingEvents, accounts: list[tuple[str, str]] | None = None) -> Replayer:
    streams = boto3.client("dynamodbstreams", endpoint_url=story.endpoint, region_name=REGION)
    publisher = EventPublisher("default", client=events)
    return Replayer(story.table, story.client, streams, publisher, accounts or [], timedelta(hours=96))


# --- recount ---------------------------------------------------------------------------


def test_recount_rebuilds_what_the_stream_counted(story: Story) -> None:
    handle_batch(story.stream.shard, story.stream.records, None, StatsStore(story.table, client=story.client))
    assert story.counters() == FULL
    for item in story.client.query(
        TableName=story.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :bucket)",
        ExpressionAttributeValues={":pk": {"S": "STATS#innopaas#demo"}, ":bucket": {"S": "2026-11-25T10:00:00Z"}},
    )["Items"]:  # every writer's item of the bucket
        story.client.delete_item(TableName=story.table, Key={"pk": item["pk"], "sk": item["sk"]})
    result = Recounter(story.table, story.client).recount("innopaas", "demo", *DAY)
    assert result.buckets == 288
    assert result.messages == 3  # m3 was never registered: read, not counted
    assert story.counters() == FULL


def test_recount_repairs_a_lost_batch_and_clears_empty_buckets(story: Story) -> None:
    lose_middle(story)
    stray = {"pk": {"S": "STATS#innopaas#demo"}, "sk": {"S": "2026-11-25T10:10:00Z"}, "submitted": {"N": "7"}}
    story.client.put_item(TableName=story.table, Item=stray)
    Recounter(story.table, story.client).recount("innopaas", "demo", *DAY)
    assert story.counters() == FULL  # one bucket left: the stray one was empty, so deleted


def test_recount_counts_the_first_final_status_latency_not_reads(story: Story) -> None:
    items = list(
        Recounter(story.table, story.client).read_items(
            Recounter(story.table, story.client).message_keys("innopaas", "demo", *DAY)
        )
    )
    [(key, counts)] = count_items(items).items()
    assert key.bucket == "2026-11-25T10:00:00Z"
    assert dict(counts) == FULL  # m1's READ came at 40 s; its first final status at 20 s


def test_recount_command_against_a_local_endpoint(story: Story) -> None:
    lines: list[str] = []
    args = ["--table", story.table, "--endpoint-url", story.endpoint, "--accounts", "innopaas/demo"]
    args += ["--from", "2026-11-25T10:00:00Z", "--to", "2026-11-25T10:10:00Z"]
    assert recount_cli.main(args, lines.append) == 0
    assert lines[0] == "innopaas/demo: rewrote 2 buckets from 3 messages"
    assert "submitted=2" in lines[1]
    assert story.counters() == FULL


# --- replay ----------------------------------------------------------------------------


def test_replay_from_stream_records_republishes_their_events_and_recounts(story: Story, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    lost = lose_middle(story)
    park(sqs, url, story.stream, lost)
    events = CapturingEvents()
    [done] = run(sqs, url, replayer(story, events), 10)
    assert done.recovered, done.line()
    assert done.deleted
    assert done.how == "replayed from its stream records"
    assert [entry["Detail"] for entry in events.entries]
    ids = [json.loads(entry["Detail"])["id"] for entry in events.entries]
    assert ids == [
        r["eventID"]
        for r in lost
        if r["dynamodb"].get("NewImage", {}).get("status") != r["dynamodb"].get("OldImage", {}).get("status")
    ]
    assert story.counters() == FULL
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_replay_after_the_records_expired_rebuilds_events_from_history(story: Story, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    lost = lose_middle(story)
    park(sqs, url, story.stream, lost, **EXPIRED)
    [without] = run(sqs, url, replayer(story, CapturingEvents()), 10)
    assert not without.recovered  # no accounts named: it stays parked
    assert not without.deleted
    sqs.purge_queue(QueueUrl=url)
    park(sqs, url, story.stream, lost, **EXPIRED)
    events = CapturingEvents()
    [done] = run(sqs, url, replayer(story, events, [("innopaas", "demo")]), 10)
    assert done.recovered, done.line()
    assert done.deleted
    details = [json.loads(entry["Detail"]) for entry in events.entries]
    assert {(d["message_id"], d["status"], d["final"]) for d in details} >= {
        ("m1", "DELIVERED", True),
        ("m2", "FAILED", True),
        ("m3", "REJECTED", True),
    }
    assert all(d["id"].startswith("replay-") for d in details)
    assert story.counters() == FULL
    again = CapturingEvents()
    park(sqs, url, story.stream, lost, **EXPIRED)
    run(sqs, url, replayer(story, again, [("innopaas", "demo")]), 10)
    assert [e["Detail"] for e in again.entries] == [e["Detail"] for e in events.entries]  # same ids again


def test_a_message_that_is_no_stream_pointer_is_kept(story: Story, queue: tuple[Any, str]) -> None:
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    [done] = run(sqs, url, replayer(story, CapturingEvents()), 10)
    assert done.batch is None
    assert not done.deleted
    assert ParkedBatch.from_message({"Body": "{}", "MessageId": "x", "ReceiptHandle": "y"}) is None


def test_replay_command_with_per_service_endpoints(
    story: Story, queue: tuple[Any, str], moto_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs, url = queue
    park(sqs, url, story.stream, lose_middle(story))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", story.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", story.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", moto_server.endpoint)
    lines: list[str] = []
    assert replay_cli.main(["--table", story.table, "--queue-url", url], lines.append) == 0, lines
    assert "replayed from its stream records" in lines[0]
    assert story.counters() == FULL
