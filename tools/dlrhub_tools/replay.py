"""Replay the stream batches the stream function parked in its failure queue.

    python -m dlrhub_tools.replay --table dlrhub-prod-MessagesTable-XYZ \\
        --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/dlrhub-prod-StreamFailureQueue-XYZ \\
        --accounts infin8linx/main,webcom/main [--event-bus default] [--dry-run]

Each message of the queue points at a range of stream records (shard, first and last
sequence number, arrival times). While the records are in the stream (24 hours), they are
read again: their status events are published again with their own ids, and the counters
of the buckets they touched (and the scorecard's hours) are rebuilt. Once they expired, the
messages changed in the batch's time range are found by account (``--accounts``) and the
events are rebuilt from their histories. A message is deleted from the queue only when its batch was replayed.
What each path can and cannot recover: docs/operations.md, "Replaying parked batches".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dlrhub.adapters.bus import EventPublisher
from dlrhub.domain import scorecard
from dlrhub.domain.stats import parse_time
from dlrhub.services.stream import status_change, table_arn
from dlrhub.table.keys import is_message, read_image
from dlrhub.table.recount import Recounter, buckets_of, history, spans
from dlrhub_tools.common import accounts, add_aws_arguments, client

SLACK = timedelta(minutes=2)  # around the batch's arrival times
MAX_PAGES = 1000
MAX_EMPTY_PAGES = 3
VISIBILITY_SECONDS = 900
EXPIRED = {"TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException", "ValidationException"}
#: History fields that describe the status at that moment.
ENTRY_FIELDS = ("status", "raw_status", "event_time", "received_at", "source")


@dataclass(frozen=True)
class ParkedBatch:
    """One on-failure record of the stream's event source mapping (``DDBStreamBatchInfo``)."""

    message_id: str
    receipt: str
    stream_arn: str
    shard: str
    first_sequence: str
    last_sequence: str
    first_arrival: datetime
    last_arrival: datetime
    size: int

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> ParkedBatch | None:
        try:
            info = json.loads(message["Body"])["DDBStreamBatchInfo"]
            return cls(
                message["MessageId"],
                message["ReceiptHandle"],
                info["streamArn"],
                info["shardId"],
                info["startSequenceNumber"],
                info["endSequenceNumber"],
                parse_time(info["approximateArrivalOfFirstRecord"]),
                parse_time(info["approximateArrivalOfLastRecord"]),
                int(info.get("batchSize", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class Replayed:
    batch: ParkedBatch | None
    how: str  # how it was replayed, or why it was not
    recovered: bool = False
    events: int = 0
    buckets: int = 0
    deleted: bool = False
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        where = f"{self.batch.shard} {self.batch.first_sequence}..{self.batch.last_sequence}" if self.batch else "?"
        kept = "deleted from the queue" if self.deleted else "kept in the queue"
        return f"{where}: {self.how}, {self.events} events, {self.buckets} buckets recounted; {kept}"


def read_range(streams: Any, batch: ParkedBatch) -> list[dict[str, Any]] | None:
    """The batch's records as the stream still holds them; None once they expired (even partly)."""
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=batch.stream_arn,
            ShardId=batch.shard,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch.first_sequence,
        ).get("ShardIterator")
        records: list[dict[str, Any]] = []
        empty = 0
        for _ in range(MAX_PAGES):
            if not iterator:
                break
            reply = streams.get_records(ShardIterator=iterator, Limit=1000)
            page = reply.get("Records", [])
            empty = 0 if page else empty + 1
            inside = [r for r in page if int(r["dynamodb"]["SequenceNumber"]) <= int(batch.last_sequence)]
            records += inside
            if len(inside) < len(page) or empty >= MAX_EMPTY_PAGES:
                break
            iterator = reply.get("NextShardIterator")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in EXPIRED:
            return None
        raise
    if not records or int(records[0]["dynamodb"]["SequenceNumber"]) != int(batch.first_sequence):
        return None
    return records


def record_events(records: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The events the stream function would have published, with the records' ids."""
    for record in records:
        images = record.get("dynamodb", {})
        detail = status_change(read_image(images.get("OldImage") or {}), read_image(images.get("NewImage") or {}))
        if detail is not None:
            yield record.get("eventID", ""), detail


def replay_id(item: dict[str, Any], entry: dict[str, Any]) -> str:
    """A stable id for an event rebuilt from history: replaying twice gives the same ids."""
    text = f"{item.get('pk')}|{entry.get('status')}|{entry.get('received_at')}"
    return "replay-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def history_events(item: dict[str, Any], start: datetime, end: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """Events for the item's history entries received in ``[start, end]``, as they were then
    (the provider's time and the cost are known for the latest status only)."""
    entries = history(item)
    previous: str | None = None
    for position, entry in enumerate(entries):
        received = entry.get("received_at")
        if received and start <= parse_time(received) <= end:
            state = {**item, **{name: entry.get(name) for name in ENTRY_FIELDS}}
            if position < len(entries) - 1:
                state |= {"provider_time": None, "cost": None}
            detail = status_change({"status": previous} if previous else {}, state)
            if detail is not None:
                yield replay_id(item, entry), detail
        previous = entry.get("status")


def changed_between(item: dict[str, Any], start: datetime, end: datetime) -> bool:
    times = [entry.get("received_at") for entry in history(item)] + [item.get("registered_at")]
    return any(start <= parse_time(moment) <= end for moment in times if moment)


class Replayer:
    def __init__(
        self,
        table: str,
        dynamodb: Any,
        streams: Any,
        publisher: EventPublisher | None,
        accounts: list[tuple[str, str]],
        lookback: timedelta,
        *,
        dry_run: bool = False,
    ) -> None:
        self._recounter = Recounter(table, dynamodb)
        self._streams = streams
        self._publisher = publisher
        self._accounts = accounts
        self._lookback = lookback
        self._dry_run = dry_run

    def replay(self, batch: ParkedBatch) -> Replayed:
        records = read_range(self._streams, batch)
        if records is not None:
            events = list(record_events(records))
            images = [read_image(r["dynamodb"].get(side) or {}) for r in records for side in ("NewImage", "OldImage")]
            done = Replayed(batch, "replayed from its stream records", True, len(events))
            return self._finish(done, batch, events, buckets_of(images))
        if not self._accounts:
            return Replayed(batch, "records expired and no --accounts given: nothing recovered")
        start, end = batch.first_arrival - SLACK, batch.last_arrival + SLACK
        events, buckets = [], set()
        for provider, account in self._accounts:
            keys = self._recounter.message_keys(provider, account, start - self._lookback, end)
            for item in self._recounter.read_items(keys, whole=True):
                if not is_message(item) or not changed_between(item, start, end):
                    continue
                events += history_events(item, start, end)
                buckets |= buckets_of([item])
        done = Replayed(batch, "records expired: rebuilt from the items", True, len(events))
        return self._finish(done, batch, events, buckets)

    def _finish(
        self, done: Replayed, batch: ParkedBatch, events: list[tuple[str, dict[str, Any]]], buckets: set[Any]
    ) -> Replayed:
        if events and self._publisher is not None and not self._dry_run:
            arn = table_arn(batch.stream_arn)
            if arn:
                self._publisher.resources = [arn]
            self._publisher.publish(events)
        hours = set()
        for provider, account, start, end in spans(buckets):
            result = self._recounter.recount(provider, account, start, end, dry_run=self._dry_run)
            done.buckets += result.buckets
            hours |= {(provider, account, hour) for hour in scorecard.hours(start, end)}
        for provider, account, hour in sorted(hours):  # the scorecard's hours of those buckets
            self._recounter.recount_scorecard(provider, account, hour, hour + scorecard.HOUR, dry_run=self._dry_run)
        return done


def parked_messages(sqs: Any, queue_url: str, limit: int) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` messages of the queue (each hidden for 15 minutes while it is replayed)."""
    seen = 0
    while seen < limit:
        reply = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - seen),
            WaitTimeSeconds=1,
            VisibilityTimeout=VISIBILITY_SECONDS,
        )
        messages = reply.get("Messages", [])
        if not messages:
            return
        seen += len(messages)
        yield from messages


def run(sqs: Any, queue_url: str, replayer: Replayer, limit: int, *, dry_run: bool = False) -> list[Replayed]:
    results = []
    for message in parked_messages(sqs, queue_url, limit):
        batch = ParkedBatch.from_message(message)
        if batch is None:
            results.append(Replayed(None, f"message {message.get('MessageId')} is not a stream batch pointer"))
            continue
        done = replayer.replay(batch)
        if done.recovered and not dry_run:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=batch.receipt)
            done.deleted = True
        results.append(done)
    return results


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m dlrhub_tools.replay", description=__doc__.split("\n\n")[0])
    add_aws_arguments(found)
    found.add_argument("--queue-url", required=True, help="the stream failure queue (output StreamFailureQueueUrl)")
    found.add_argument("--event-bus", default="default", help="the stack's EventBusName")
    found.add_argument("--accounts", type=accounts, default=[], help="provider/account pairs, for expired records")
    found.add_argument(
        "--lookback-hours", type=float, default=96, help="how long before a change a message may have been submitted"
    )
    found.add_argument("--no-events", action="store_true", help="recount only (events switched off)")
    found.add_argument("--max-messages", type=int, default=100, help="queue messages to replay in this run")
    found.add_argument("--dry-run", action="store_true", help="read and report; publish, write and delete nothing")
    return found


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parser().parse_args(argv)
    publisher = None if args.no_events else EventPublisher(args.event_bus, client=client("events", args.endpoint_url))
    replayer = Replayer(
        args.table,
        client("dynamodb", args.endpoint_url),
        client("dynamodbstreams", args.endpoint_url),
        publisher,
        args.accounts,
        timedelta(hours=args.lookback_hours),
        dry_run=args.dry_run,
    )
    results = run(client("sqs", args.endpoint_url), args.queue_url, replayer, args.max_messages, dry_run=args.dry_run)
    for result in results:
        out(result.line())
    if not results:
        out("the queue holds no parked batch")
    return 0 if all(result.deleted or args.dry_run for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
