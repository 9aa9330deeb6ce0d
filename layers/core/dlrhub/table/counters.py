"""Counters in the messages table (keys: :func:`dlrhub.table.keys.counter_key`).

A stream batch is applied in ONE transaction together with the shard's checkpoint (the
last sequence number applied), conditional on the batch being newer than it: a retried
or re-delivered batch changes nothing, so each transition is counted exactly once.

Each shard writes counter items of its own (the shard is in the sort key): on AWS, two
transactions on one item at once fail with ``TransactionConflict``, and a table has one
stream shard per partition, all read at once. Readers sum a bucket's items. A conflict that
still happens (a shard's batch retried while its earlier call is in flight) is retried here
a few times with backoff before the batch fails.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dlrhub.domain.stats import CounterKey
from dlrhub.domain.times import utc_now
from dlrhub.runtime import clients as aws
from dlrhub.table.keys import counter_bucket, counter_key, counter_partition, stream_position_key, typed_key

#: Sequence numbers are compared as zero-padded text.
SEQUENCE_WIDTH = 64
MAX_COUNTER_ITEMS = 99  # a transaction holds 100 items, one is the checkpoint
#: Tries of a transaction that DynamoDB cancels for a conflict with another one in flight.
CONFLICT_TRIES = 4
CONFLICT_WAIT = 0.05  # seconds before the second try; doubled each time, with jitter


def padded(sequence: str) -> str:
    return sequence.zfill(SEQUENCE_WIDTH)


def cancelled_for(error: ClientError) -> list[str]:
    """The cancellation reason codes of a refused transaction, in item order ([] for other errors)."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [str(reason.get("Code") or "None") for reason in error.response.get("CancellationReasons") or []]


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
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": typed_key(stream_position_key(shard)),
                    "UpdateExpression": "SET #seq = :last, expires_at = :ttl",
                    "ConditionExpression": "attribute_not_exists(#seq) OR #seq < :first",
                    "ExpressionAttributeNames": {"#seq": "sequence"},
                    "ExpressionAttributeValues": {
                        ":last": {"S": padded(last)},
                        ":first": {"S": padded(first)},
                        ":ttl": {"N": str(expires)},
                    },
                }
            }
        ]
        for key, counter in counts.items():
            fields = sorted(counter)
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": typed_key(counter_key(key.provider, key.account, key.bucket, shard)),
                        "UpdateExpression": "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(fields))),
                        "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(fields)},
                        "ExpressionAttributeValues": {
                            f":v{i}": {"N": str(counter[name])} for i, name in enumerate(fields)
                        },
                    }
                }
            )
        for attempt in range(CONFLICT_TRIES):
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as error:
                reasons = cancelled_for(error)
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                if "TransactionConflict" not in reasons or attempt == CONFLICT_TRIES - 1:
                    raise
                self.conflicts += 1
                self._sleep(CONFLICT_WAIT * 2**attempt * (0.5 + random.random()))
                continue
            return True
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

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
        while True:
            reply = self._client.query(**args)
            for item in reply.get("Items", []):
                bucket = counter_bucket(item["sk"]["S"])
                found.setdefault(bucket, Counter()).update({k: int(v["N"]) for k, v in item.items() if "N" in v})
            if "LastEvaluatedKey" not in reply:
                break
            args["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
        return [{"bucket": bucket, **counts} for bucket, counts in sorted(found.items())]
