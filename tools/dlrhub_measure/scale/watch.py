"""What the scale benchmark watches and emulates in every AWS call of a tree's code (runner side).

One patch of botocore's ``BaseClient._make_api_call``, whatever the tree's code looks like:

* every DynamoDB write is counted against its table key, in the second of the replay it
  belongs to (``Watch.second``), and asked for ``ReturnConsumedCapacity=INDEXES`` (the
  units it cost, table and indexes);
* ``TransactWriteItems`` clash as on AWS: a transaction touching an item another one holds
  is refused with ``TransactionCanceledException`` / ``TransactionConflict`` (DynamoDB Local
  runs transactions one at a time and never does; tests/aws_shapes.py has the shapes);
* ``PutEvents`` is answered here (every entry taken) and its entries kept;
* ``fault`` makes the named operation raise an AWS error shape instead.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from botocore.client import BaseClient

from tests.aws_shapes import HeldItems

WRITES = {"UpdateItem", "PutItem", "DeleteItem"}


def _key_text(key: dict[str, Any]) -> str:
    return "|".join(f"{value.get('S', value.get('N', ''))}" for _, value in sorted(key.items()))


class Watch:
    def __init__(self, *, hold: float = 0.01) -> None:
        self._lock = threading.Lock()
        self.hold = hold  # seconds a transaction keeps its items after DynamoDB Local answered
        self.second = 0
        #: (second, table key) -> writes sent (succeeded or refused: both take the partition's capacity)
        self.writes: Counter[tuple[int, str]] = Counter()
        self.units: Counter[str] = Counter()  # operation -> capacity units consumed (table + indexes)
        self.index_units: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []
        self.fault: tuple[str, Callable[[], Exception]] | None = None
        self._held = HeldItems()
        #: what the calling thread is doing (``Watch.doing``); units are also counted per kind of work
        self._doing = threading.local()
        self.units_by_work: Counter[str] = Counter()
        self.work_done: Counter[str] = Counter()

    @contextmanager
    def doing(self, work: str) -> Iterator[None]:
        """Count the units of the calls made inside against ``work`` (e.g. "registration")."""
        self._doing.work = work
        try:
            yield
        finally:
            self._doing.work = None
            with self._lock:
                self.work_done[work] += 1

    @property
    def conflicts(self) -> int:
        """Transactions refused for touching an item another one held."""
        return self._held.conflicts

    def _count_capacity(self, operation: str, reply: dict[str, Any]) -> None:
        found = reply.get("ConsumedCapacity")
        work = getattr(self._doing, "work", None)
        for capacity in found if isinstance(found, list) else [found] if found else []:
            with self._lock:
                self.units[operation] += float(capacity.get("CapacityUnits", 0))
                if work:
                    self.units_by_work[work] += float(capacity.get("CapacityUnits", 0))
            for name, index in (capacity.get("GlobalSecondaryIndexes") or {}).items():
                with self._lock:
                    self.index_units[name] += float(index.get("CapacityUnits", 0))

    def call(self, original: Callable[..., Any], client: Any, operation: str, params: dict[str, Any]) -> Any:
        with self._lock:
            self.calls[operation] += 1
        if self.fault and self.fault[0] == operation:
            raise self.fault[1]()
        if operation == "PutEvents":
            entries = list(params.get("Entries", []))
            with self._lock:
                self.events += entries
            return {"FailedEntryCount": 0, "Entries": [{"EventId": str(n)} for n in range(len(entries))]}
        if operation in WRITES:
            with self._lock:
                self.writes[(self.second, _key_text(params["Key"] if "Key" in params else _item_key(params)))] += 1
            params = {**params, "ReturnConsumedCapacity": "INDEXES"}
            try:
                reply = original(client, operation, params)
            except Exception as error:
                response = getattr(error, "response", {}) or {}
                self._count_capacity(operation, response)
                raise
            self._count_capacity(operation, reply)
            return reply
        if operation == "TransactWriteItems":
            return self._transaction(original, client, params)
        return original(client, operation, params)

    def _transaction(self, original: Callable[..., Any], client: Any, params: dict[str, Any]) -> Any:
        keys = []
        for item in params["TransactItems"]:
            action = next(iter(item.values()))
            keys.append(_key_text(action["Key"] if "Key" in action else _item_key(action)))
        with self._lock:
            for key in keys:
                self.writes[(self.second, key)] += 1
            self._held.take(keys)
        try:
            reply = original(client, "TransactWriteItems", {**params, "ReturnConsumedCapacity": "INDEXES"})
            self._count_capacity("TransactWriteItems", reply)
            time.sleep(self.hold)
            return reply
        finally:
            with self._lock:
                self._held.give_back(keys)


def _item_key(params: dict[str, Any]) -> dict[str, Any]:
    item = params["Item"]
    return {name: item[name] for name in ("pk", "sk") if name in item}


@contextmanager
def wrapped(owner: Any, name: str, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """``owner.name`` replaced by ``wrapper(original)`` while the block runs."""
    original = getattr(owner, name)
    setattr(owner, name, wrapper(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def api_calls(wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> AbstractContextManager[None]:
    """Every AWS call of any client (``BaseClient._make_api_call``) through ``wrapper(original)``."""
    return wrapped(BaseClient, "_make_api_call", wrapper)


@contextmanager
def watching(watch: Watch) -> Iterator[Watch]:
    """Every AWS call of the block through ``watch``."""

    def through_watch(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda client, operation, params: watch.call(original, client, operation, params)

    with api_calls(through_watch):
        yield watch


def per_key_peak(writes: Counter[tuple[int, str]]) -> dict[str, tuple[str, int]]:
    """kind of key -> (the key, its writes) of the key written most in any one second."""
    found: dict[str, tuple[str, int]] = {}
    for (_, key), count in writes.items():
        kind = key.split("#", 1)[0] if "#" in key else key
        if kind not in found or count > found[kind][1]:
            found[kind] = (key, count)
    return found


def index_writes(
    records: list[dict[str, Any]], indexes: dict[str, tuple[str, str]], second_of: Callable[[int], int]
) -> dict[str, Counter[tuple[int, str]]]:
    """Index name -> (second, index partition) -> index writes, from the stream's old and new images.

    An index is written when an item gains, changes or loses its index keys (keys-only indexes:
    nothing else is projected): a changed key is a delete in one partition and a put in another.
    """
    found: dict[str, Counter[tuple[int, str]]] = defaultdict(Counter)
    for number, record in enumerate(records):
        images = record.get("dynamodb", {})
        old, new = images.get("OldImage") or {}, images.get("NewImage") or {}
        second = second_of(number)
        for index, (pk, sk) in indexes.items():
            before = (old.get(pk, {}).get("S"), old.get(sk, {}).get("S")) if pk in old else None
            after = (new.get(pk, {}).get("S"), new.get(sk, {}).get("S")) if pk in new else None
            if before == after:
                continue
            if before is not None:
                found[index][(second, str(before[0]))] += 1
            if after is not None:
                found[index][(second, str(after[0]))] += 1
    return found
