"""Counters in the messages table (keys: :func:`dlrhub.table.keys.counter_key`).

A stream batch is applied in ONE transaction together with the shard's checkpoint (the
last sequence number applied), conditional on the batch being newer than it: a retried
or re-delivered batch changes nothing, so each transition is counted exactly once.

Each shard writes counter items of its own (the shard is in the sort key): on AWS, two
transactions on one item at once fail with ``TransactionConflict``, and a table has one
stream shard per partition, all read at once. Readers sum a bucket's items. A conflict that
still happens (a shard's batch retried while its earlier call is in flight) is retried here
a few times with backoff before the batch fails (:mod:`dlrhub.table.once`, shared with the scorecard).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dlrhub.domain.stats import CounterKey
from dlrhub.domain.times import utc_now
from dlrhub.runtime import clients as aws
from dlrhub.table.keys import counter_bucket, counter_key, counter_partition, stream_position_key
from dlrhub.table.once import add_update, position_update, transact_once
from dlrhub.table.paging import query_items

MAX_COUNTER_ITEMS = 99  # a transaction holds 100 items, one is the checkpoint


class StatsStore:
    def __init__(self, table_name: str, *, client: Any = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client or aws.client("dynamodb")
        self._table = table_name
        self._sleep = sleep
        #: Transactions cancelled for a conflict and tried again (the stream function's metric).
        self.conflicts = 0

    @property
    def client(self) -> Any:
        """The DynamoDB client, to share with the table's other stores (one per function)."""
        return self._client

    def apply_batch(self, shard: str, first: str, last: str, counts: dict[CounterKey, Counter[str]]) -> bool:
        """Add the batch's counts once. False when this batch was applied before."""
        if len(counts) > MAX_COUNTER_ITEMS:
            raise ValueError(f"a batch may touch at most {MAX_COUNTER_ITEMS} counters")
        expires = int((utc_now() + timedelta(days=2)).timestamp())
        items = [{"Update": position_update(self._table, stream_position_key(shard), first, last, expires)}]
        for key, counter in counts.items():
            target = counter_key(key.provider, key.account, key.bucket, shard)
            items.append({"Update": add_update(self._table, target, counter)})
        return transact_once(self._client, items, sleep=self._sleep, on_conflict=self._conflicted)

    def _conflicted(self) -> None:
        self.conflicts += 1

    def buckets(self, provider: str, account: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The counters of buckets starting in ``[start, end)``, one dict per bucket: its writers' items summed."""
        found: dict[str, Counter[str]] = {}
        args: dict[str, Any] = {
            "TableName": self._table,
            # "{bucket}#{slot}" sorts after "{bucket}" and before the next bucket's name
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": {"S": counter_partition(provider, account)},
                ":from": {"S": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
                ":to": {"S": (end - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ") + "#~"},
            },
            "ConsistentRead": True,
        }
        for item in query_items(self._client, args):
            bucket = counter_bucket(item["sk"]["S"])
            found.setdefault(bucket, Counter()).update({k: int(v["N"]) for k, v in item.items() if "N" in v})
        return [{"bucket": bucket, **counts} for bucket, counts in sorted(found.items())]
