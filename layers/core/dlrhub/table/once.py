"""A stream run written exactly once (the counters' and the scorecard's items).

A run of one shard's records goes in ONE transaction with the shard's position (the last sequence
number written), conditional on the run starting after it: a retried or re-delivered run changes
nothing. A transaction DynamoDB cancels for a conflict with another in flight is tried again a few
times with backoff before the run fails.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from dlrhub.table.keys import typed_key

#: Sequence numbers are compared as zero-padded text.
SEQUENCE_WIDTH = 64
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


def position_update(table: str, key: dict[str, str], first: str, last: str, expires: int) -> dict[str, Any]:
    """The shard's position moved to ``last``, only where it is before ``first`` (the run's first record)."""
    return {
        "TableName": table,
        "Key": typed_key(key),
        "UpdateExpression": "SET #seq = :last, expires_at = :ttl",
        "ConditionExpression": "attribute_not_exists(#seq) OR #seq < :first",
        "ExpressionAttributeNames": {"#seq": "sequence"},
        "ExpressionAttributeValues": {
            ":last": {"S": padded(last)},
            ":first": {"S": padded(first)},
            ":ttl": {"N": str(expires)},
        },
    }


def add_update(table: str, key: dict[str, str], figures: Mapping[str, int | Decimal]) -> dict[str, Any]:
    """``ADD`` each figure to one item (numbers are exact decimals in DynamoDB: costs add up exactly)."""
    names = sorted(figures)
    return {
        "TableName": table,
        "Key": typed_key(key),
        "UpdateExpression": "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(names))),
        "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(names)},
        "ExpressionAttributeValues": {f":v{i}": {"N": str(figures[name])} for i, name in enumerate(names)},
    }


def transact_once(
    client: Any, items: list[dict[str, Any]], *, sleep: Callable[[float], None], on_conflict: Callable[[], None]
) -> bool:
    """Write ``items`` (the position's update first). False when the run was written before."""
    for attempt in range(CONFLICT_TRIES):
        try:
            client.transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = cancelled_for(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            if "TransactionConflict" not in reasons or attempt == CONFLICT_TRIES - 1:
                raise
            on_conflict()
            sleep(CONFLICT_WAIT * 2**attempt * (0.5 + random.random()))
            continue
        return True
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
