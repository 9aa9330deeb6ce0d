"""Write units per call, from ``ReturnConsumedCapacity=INDEXES``, without touching the store's code.

Two botocore event hooks on the client: one adds ``ReturnConsumedCapacity=INDEXES`` to every
write, the other notes the ``ConsumedCapacity`` of the reply (table and each GSI apart). A write
whose condition failed has no ``ConsumedCapacity`` in its reply (on AWS as on DynamoDB Local),
yet AWS charges it by the size of the item already there, at least 1 (DynamoDB developer guide,
"Conditional writes": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html):
:meth:`CapacityMeter.settle` reads the item and charges ``ceil(size / 1 KB)`` on the table, marked
``computed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dlrhub_measure.item_size import item_size, write_units

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


@dataclass
class WriteCall:
    operation: str
    table: float = 0.0
    indexes: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    #: The error code of a refused write (e.g. ConditionalCheckFailedException), else None.
    error: str | None = None
    #: Units not reported by the endpoint but computed from the item's size (refused writes).
    computed: bool = False
    key: dict[str, Any] | None = None
    table_name: str | None = None


def _add(call: WriteCall, consumed: dict[str, Any]) -> None:
    call.total += float(consumed.get("CapacityUnits", 0.0))
    call.table += float((consumed.get("Table") or {}).get("CapacityUnits", 0.0))
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for name, units in (consumed.get(kind) or {}).items():
            call.indexes[name] = call.indexes.get(name, 0.0) + float(units.get("CapacityUnits", 0.0))


class CapacityMeter:
    """Hooks on one DynamoDB client; :meth:`recording` collects the writes made inside it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._calls: list[WriteCall] | None = None
        #: Whether the endpoint broke the units down per table and index (INDEXES honoured).
        self.breakdown_seen = False
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in WRITES:
            params["ReturnConsumedCapacity"] = "INDEXES"
            context["bench_key"] = params.get("Key")
            context["bench_table"] = params.get("TableName")

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self._calls is None or model.name not in WRITES:
            return
        call = WriteCall(model.name, key=context.get("bench_key"), table_name=context.get("bench_table"))
        error = (parsed.get("Error") or {}).get("Code")
        if error:
            call.error = error
        consumed = parsed.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            if "Table" in entry or "GlobalSecondaryIndexes" in entry:
                self.breakdown_seen = True
            _add(call, entry)
        self._calls.append(call)

    @contextmanager
    def recording(self) -> Iterator[list[WriteCall]]:
        calls: list[WriteCall] = []
        self._calls = calls
        try:
            yield calls
        finally:
            self._calls = None
        self.settle(calls)

    def settle(self, calls: list[WriteCall]) -> None:
        """Charge refused writes as AWS does: the existing item's size, on the table, at least 1."""
        for call in calls:
            if call.error is None or call.total or call.key is None or call.table_name is None:
                continue
            reply = self._client.get_item(TableName=call.table_name, Key=call.key, ConsistentRead=True)
            units = write_units(item_size(reply.get("Item") or {}))
            call.table = call.total = float(units)
            call.computed = True


def summary(calls: list[WriteCall]) -> dict[str, Any]:
    """The units of one measured action (one or more calls), table and each index apart."""
    indexes: dict[str, float] = {}
    for call in calls:
        for name, units in call.indexes.items():
            indexes[name] = indexes.get(name, 0.0) + units
    return {
        "calls": len(calls),
        "total": sum(call.total for call in calls),
        "table": sum(call.table for call in calls),
        "indexes": indexes,
        "refused": sum(call.error is not None for call in calls),
        "computed": any(call.computed for call in calls),
    }
