"""Rebuilding delivery counters and the provider scorecard from the message items (docs/operations.md, "Recount").

The stream function keeps the counters by adding each change once (dlrhub.domain.stats). When a
stream batch is lost (parked after its retries, and its records expired), the counters of
the buckets it touched can be rebuilt from the items themselves: every registered message
submitted in a bucket counts ``submitted``, its first final status ``delivered`` or
``failed`` and the latency of that status (read from its history). Messages are found by
the ``by_account`` index (account and submission time), read whole by key: a Query and
BatchGetItem, never a Scan. The scorecard's hours are rebuilt the same way: every writer's items of
an hour (of one account) replaced by one item per country, what the items contribute
(dlrhub.domain.scorecard.contribution).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dlrhub.domain import scorecard as card
from dlrhub.domain.stats import BUCKET, CounterKey, bucket_of, changes, parse_time
from dlrhub.domain.times import iso
from dlrhub.table.keys import (
    ACCOUNT_INDEX,
    RECOUNT_SLOT,
    account_partitions,
    counter_key,
    counter_partition,
    from_item,
    is_message,
    message_identity,
    read_history_entry,
    read_message,
    scorecard_key,
    scorecard_partition,
    scorecard_prefix,
    scorecard_row_of,
    typed_key,
    with_identity,
)
from dlrhub.table.paging import query_items

BATCH_GET = 100  # BatchGetItem takes 100 keys a call
MAX_UNPROCESSED_ROUNDS = 8
#: What counting an item needs (``#s``: ``status`` is a reserved word).
ITEM_FIELDS = "pk, sk, #s, registered_at, submitted_at, received_at, event_time, history, raw_status, country, cost"
#: Distinct raw words a recounted row keeps (the most frequent; the rest as ``w:~other``).
RECOUNT_WORDS = 50


def history(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [read_history_entry(entry) for entry in item.get("history") or []]


def first_final_received(item: dict[str, Any]) -> str | None:
    """When the hub received the message's first final status (its history keeps it)."""
    return card.first_final_received(history(item))


def item_counts(item: dict[str, Any]) -> tuple[CounterKey, Counter[str]] | None:
    """What the stream function counted over the item's whole life, from its current state."""
    view = with_identity(item)
    received = first_final_received(item)
    if received:
        view["received_at"] = received
    return changes({}, view)


def count_items(items: Iterable[dict[str, Any]]) -> dict[CounterKey, Counter[str]]:
    totals: dict[CounterKey, Counter[str]] = defaultdict(Counter)
    for item in items:
        found = item_counts(item)
        if found is not None:
            totals[found[0]].update(found[1])
    return dict(totals)


def scorecard_rows(items: Iterable[dict[str, Any]]) -> dict[card.RowKey, card.Figures]:
    """What the items contribute to the scorecard, summed per row (provider, account, country, hour)."""
    totals: dict[card.RowKey, card.Figures] = {}
    for item in items:
        found = card.contribution(read_message(item))
        if found is not None:
            card.add(totals, *found)
    return totals


def buckets_between(start: datetime, end: datetime) -> list[datetime]:
    """The 5-minute buckets that ``[start, end)`` touches, whole."""
    cursor, found = bucket_of(start), []
    while cursor < end:
        found.append(cursor)
        cursor += BUCKET
    return found


def bucket_name(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ScorecardRecount:
    provider: str
    account: str
    hours: int  # hours rewritten (or found, in a dry run)
    messages: int  # message items read
    rows: dict[card.RowKey, card.Figures]  # rows written (non-empty ones)


@dataclass(frozen=True)
class RecountResult:
    provider: str
    account: str
    buckets: int  # buckets rewritten (or found, in a dry run)
    messages: int  # message items read
    counters: dict[str, dict[str, int]]  # bucket -> counters written (non-empty ones)


class Recounter:
    """Reads message items and rewrites the counter items of whole 5-minute buckets."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def message_keys(self, provider: str, account: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Keys of the account's messages submitted (else first seen) in ``[start, end)``, every shard."""
        for partition in account_partitions(provider, account):
            args: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": ACCOUNT_INDEX,
                "KeyConditionExpression": "acct_pk = :acct AND acct_sk BETWEEN :from AND :to",
                "ExpressionAttributeValues": {
                    ":acct": {"S": partition},
                    ":from": {"S": iso(start)},
                    ":to": {"S": iso(end)},  # "{end}#id" sorts after "{end}": end is excluded
                },
                "ProjectionExpression": "pk, sk",
            }
            yield from query_items(self._client, args)

    def read_items(self, keys: Iterable[dict[str, Any]], *, whole: bool = False) -> Iterator[dict[str, Any]]:
        """The items of ``keys`` (what counting needs, or ``whole``), strongly consistent,
        100 a call, unprocessed keys retried."""
        batch: list[dict[str, Any]] = []
        for key in keys:
            batch.append({"pk": key["pk"], "sk": key["sk"]})
            if len(batch) == BATCH_GET:
                yield from self._get(batch, whole)
                batch = []
        if batch:
            yield from self._get(batch, whole)

    def _get(self, keys: list[dict[str, Any]], whole: bool) -> Iterator[dict[str, Any]]:
        wanted: dict[str, Any] = {"Keys": keys, "ConsistentRead": True}
        if not whole:
            wanted |= {"ProjectionExpression": ITEM_FIELDS, "ExpressionAttributeNames": {"#s": "status"}}
        request = {self._table: wanted}
        for attempt in range(MAX_UNPROCESSED_ROUNDS):
            reply = self._client.batch_get_item(RequestItems=request)
            for item in reply.get("Responses", {}).get(self._table, []):
                yield from_item(item)
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise RuntimeError("DynamoDB kept keys unprocessed: try again later")

    def recount(
        self, provider: str, account: str, start: datetime, end: datetime, *, dry_run: bool = False
    ) -> RecountResult:
        """Rewrite the counters of every bucket ``[start, end)`` touches, from the items."""
        buckets = buckets_between(start, end)
        if not buckets:
            return RecountResult(provider, account, 0, 0, {})
        first, stop = buckets[0], buckets[-1] + BUCKET
        items = [
            item
            for item in self.read_items(self.message_keys(provider, account, first, stop))
            if message_identity(item["pk"])[:2] == (provider, account)
        ]
        totals = count_items(items)
        written: dict[str, dict[str, int]] = {}
        for bucket in buckets:
            name = bucket_name(bucket)
            counts = totals.get(CounterKey(provider, account, name), Counter())
            fields = {key: value for key, value in sorted(counts.items()) if value}
            if fields:
                written[name] = fields
            if not dry_run:
                self._write(provider, account, name, fields)
        return RecountResult(provider, account, len(buckets), len(items), written)

    def _write(self, provider: str, account: str, bucket: str, fields: dict[str, int]) -> None:
        """The bucket's items of every writer (stream shards, an earlier recount) replaced by one."""
        key = typed_key(counter_key(provider, account, bucket, RECOUNT_SLOT))
        for old in self._bucket_keys(provider, account, bucket):
            if old != key:
                self._client.delete_item(TableName=self._table, Key=old)
        if fields:
            item = {**key, **{name: {"N": str(value)} for name, value in fields.items()}}
            self._client.put_item(TableName=self._table, Item=item)
        else:
            self._client.delete_item(TableName=self._table, Key=key)

    def recount_scorecard(
        self, provider: str, account: str, start: datetime, end: datetime, *, dry_run: bool = False
    ) -> ScorecardRecount:
        """Rewrite the scorecard rows of the account in every hour ``[start, end)`` touches, from the items."""
        hours = card.hours(start, end)
        if not hours:
            return ScorecardRecount(provider, account, 0, 0, {})
        items = [
            item
            for item in self.read_items(self.message_keys(provider, account, hours[0], hours[-1] + card.HOUR))
            if message_identity(item["pk"])[:2] == (provider, account)
        ]
        names = {card.hour_name(hour) for hour in hours}
        rows = {key: figures for key, figures in scorecard_rows(items).items() if key.hour in names}
        if not dry_run:
            for hour in sorted(names):
                self._write_hour(provider, account, hour, {k: v for k, v in rows.items() if k.hour == hour})
        return ScorecardRecount(provider, account, len(hours), len(items), rows)

    def _write_hour(self, provider: str, account: str, hour: str, rows: dict[card.RowKey, card.Figures]) -> None:
        """The hour's items of every writer (stream shards, an earlier recount) replaced by one per country."""
        keep = {scorecard_key(key.provider, key.account, key.country, key.hour, RECOUNT_SLOT)["sk"] for key in rows}
        for item in self._scorecard_items(provider, account, hour):
            if item["sk"]["S"] not in keep:
                self._client.delete_item(TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]})
        for key, figures in rows.items():
            written = card.capped_words(figures, RECOUNT_WORDS)
            target = typed_key(scorecard_key(key.provider, key.account, key.country, key.hour, RECOUNT_SLOT))
            values = {name: {"N": str(value)} for name, value in sorted(written.items()) if value}
            self._client.put_item(TableName=self._table, Item={**target, **values})

    def _scorecard_items(self, provider: str, account: str, hour: str) -> Iterator[dict[str, Any]]:
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": scorecard_partition(hour)},
                ":prefix": {"S": scorecard_prefix(provider, account)},
            },
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        for item in query_items(self._client, args):
            if scorecard_row_of({"pk": item["pk"]["S"], "sk": item["sk"]["S"]})[:2] == (provider, account):
                yield item

    def _bucket_keys(self, provider: str, account: str, bucket: str) -> Iterator[dict[str, Any]]:
        partition = counter_partition(provider, account)
        args: dict[str, Any] = {
            "TableName": self._table,
            # the bucket's name alone (items written before slots) or with a writer: names are fixed-length
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :bucket)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":bucket": {"S": bucket}},
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        yield from query_items(self._client, args)


def buckets_of(images: Iterable[dict[str, Any]]) -> set[tuple[str, str, datetime]]:
    """(provider, account, bucket start) of the registered messages among ``images``."""
    found = set()
    for image in images:
        if is_message(image) and image.get("submitted_at"):
            provider, account, _ = message_identity(image["pk"])
            found.add((provider, account, bucket_of(parse_time(image["submitted_at"]))))
    return found


def spans(buckets: Iterable[tuple[str, str, datetime]]) -> list[tuple[str, str, datetime, datetime]]:
    """Adjacent buckets of one account merged: (provider, account, start, end)."""
    merged: list[tuple[str, str, datetime, datetime]] = []
    for provider, account, start in sorted(buckets):
        end = start + BUCKET
        if merged and merged[-1][:2] == (provider, account) and merged[-1][3] == start:
            merged[-1] = (provider, account, merged[-1][2], end)
        else:
            merged.append((provider, account, start, end))
    return merged
