"""The provider scorecard in the messages table (keys: :func:`dlrhub.table.keys.scorecard_key`).

The stream function gathers a window's changes (dlrhub.domain.scorecard.Gathered) and writes them
in ONE transaction with the shard's scorecard position (the last stream sequence number written),
conditional on the run starting after it: a run written before (a retried call, a replayed one)
changes nothing. Each stream shard writes items of its own (the shard is in the sort key); readers
sum an hour's items. An hour's rows share a partition: a read of hours is one Query per hour.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dlrhub.domain.scorecard import MAX_ROWS, Figures, RowKey, capped_words, hour_name, hours
from dlrhub.domain.times import utc_now
from dlrhub.runtime import clients as aws
from dlrhub.table.keys import (
    scorecard_key,
    scorecard_partition,
    scorecard_position_key,
    scorecard_prefix,
    scorecard_row_of,
)
from dlrhub.table.once import add_update, position_update, transact_once
from dlrhub.table.paging import query_items

#: Hours read at once (one Query each).
READERS = 16


class ScorecardStore:
    def __init__(self, table_name: str, *, client: Any = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client or aws.client("dynamodb")
        self._table = table_name
        self._sleep = sleep
        #: Transactions cancelled for a conflict and tried again.
        self.conflicts = 0
        #: Writes refused because the run had been written before.
        self.repeats = 0

    @property
    def client(self) -> Any:
        return self._client

    def write(self, shard: str, first: str, last: str, rows: Mapping[RowKey, Figures]) -> bool:
        """Add a run's changes once (sequence numbers ``first`` to ``last`` of ``shard``). False when
        that run was written before."""
        if len(rows) > MAX_ROWS:
            raise ValueError(f"a write may touch at most {MAX_ROWS} scorecard rows")
        expires = int((utc_now() + timedelta(days=2)).timestamp())
        items = [{"Update": position_update(self._table, scorecard_position_key(shard), first, last, expires)}]
        for key, figures in sorted(rows.items()):
            written = capped_words(figures)
            if written:
                target = scorecard_key(key.provider, key.account, key.country, key.hour, shard)
                items.append({"Update": add_update(self._table, target, written)})
        if transact_once(self._client, items, sleep=self._sleep, on_conflict=self._conflicted):
            return True
        self.repeats += 1
        return False

    def _conflicted(self) -> None:
        self.conflicts += 1

    def items(self, hour: str, provider: str | None = None, account: str | None = None) -> Iterator[dict[str, Any]]:
        """Every writer's item of one hour (of one provider, and account), typed as DynamoDB gives them."""
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": scorecard_partition(hour)}},
        }
        prefix = scorecard_prefix(provider, account)
        if prefix:
            args["KeyConditionExpression"] += " AND begins_with(sk, :prefix)"
            args["ExpressionAttributeValues"][":prefix"] = {"S": prefix}
        yield from query_items(self._client, args)

    def hour_rows(self, hour: str, provider: str | None, account: str | None) -> list[tuple[RowKey, Figures]]:
        found = []
        for item in self.items(hour, provider, account):
            row_provider, row_account, country, _, _ = scorecard_row_of({"pk": item["pk"]["S"], "sk": item["sk"]["S"]})
            if account is not None and row_account != account:
                continue
            figures = {name: Decimal(value["N"]) for name, value in item.items() if "N" in value}
            found.append((RowKey(row_provider, row_account, country, hour), figures))
        return found

    def rows(
        self, start: datetime, end: datetime, *, provider: str | None = None, account: str | None = None
    ) -> list[tuple[RowKey, Figures]]:
        """The items of the hours from ``start`` (aligned down) to ``end``, hours read at once."""
        names = [hour_name(moment) for moment in hours(start, end)]
        with ThreadPoolExecutor(max_workers=min(READERS, max(1, len(names)))) as pool:
            found = pool.map(lambda hour: self.hour_rows(hour, provider, account), names)
            return [row for rows in found for row in rows]
