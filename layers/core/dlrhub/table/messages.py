"""The message items: one per message, a report applied with one conditional write (docs/data-model.md).

A report is applied with ONE conditional ``UpdateItem`` and no read. The condition is
built from :mod:`dlrhub.domain.status`, so DynamoDB itself refuses a report that would move a
message backwards, whoever writes concurrently. A refused write returns the old item
(``ReturnValuesOnConditionCheckFailure``), which tells the caller why at no extra cost.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from dlrhub.domain.countries import country_of_number
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import HISTORY_LIMIT, Status, replaceable_by
from dlrhub.domain.times import iso
from dlrhub.runtime import clients as aws
from dlrhub.table.keys import (
    ACCOUNT_INDEX,
    LISTING_SORT_END,
    PENDING_INDEX,
    PENDING_SHARDS,
    REF_INDEX,
    account_partition,
    account_partitions,
    from_item,
    history_entry,
    listing_sort_key,
    message_identity,
    message_key,
    message_key_of,
    pending_partition,
    pending_partition_of,
    read_message,
    ref_partition,
    ref_partitions,
    to_item,
    typed_key,
    with_identity,
)
from dlrhub.table.parallel_reads import merged
from dlrhub.table.update_builder import UpdateBuilder

if TYPE_CHECKING:
    from dlrhub.domain.registration import Registration

MAX_PAGE = 100
#: What a listing shows of each message (the listing indexes carry keys only, and what never changes).
SUMMARY_FIELDS = ("pk", "status", "raw_status", "event_time", "submitted_at", "customer_ref")
BATCH_GET = 100
#: The (partition, sort) key attributes of each listing index.
LISTING_KEYS = {ACCOUNT_INDEX: ("acct_pk", "acct_sk"), REF_INDEX: ("ref_pk", "ref_sk")}
#: Below and above every sort key of a listing index (a listing with no start or end; a key is never empty).
LISTING_SORT_MIN, LISTING_SORT_MAX = "0", "\uffff"
PENDING_SORT_MAX = LISTING_SORT_MAX


class Outcome(StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"


class Registered(StrEnum):
    NEW = "registered"
    MERGED = "merged"  # reports had arrived first; their status is kept
    ALREADY = "already_registered"


@dataclass(frozen=True)
class ApplyResult:
    outcome: Outcome
    #: For an ignored report: the stored status that outranked it.
    stored_status: Status | None = None

    def log_fields(self, report: StatusReport) -> dict[str, Any]:
        """What a function logs of a report it applied (no number, no details)."""
        return {
            "provider": report.provider,
            "account": report.account,
            "message_id": report.message_id,
            "status": report.status.value,
            "raw_status": report.raw_status,
            "stored_status": self.stored_status.value if self.stored_status else None,
        }


@dataclass(frozen=True)
class PendingEntry:
    """One message of the ``pending`` index: its shard and sort key (a resume point) and id."""

    shard: int
    sort_key: str
    message_id: str


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


class InvalidCursor(ValueError):
    pass


def iso_at_or_after(moment: datetime) -> str:
    """The earliest stored time (milliseconds) at or after ``moment``."""
    text = iso(moment)
    return text if moment.microsecond % 1000 == 0 else iso(moment + timedelta(milliseconds=1))


def iso_before(moment: datetime) -> str:
    """The latest stored time (milliseconds) before ``moment``: ranges are half-open."""
    text = iso(moment)
    return text if moment.microsecond % 1000 else iso(moment - timedelta(milliseconds=1))


def build_status_update(report: StatusReport, retention: timedelta) -> dict[str, Any]:
    """The ``UpdateItem`` arguments (less table and key) that apply ``report``. Pure."""
    event_time = iso(report.event_time)
    received_at = iso(report.received_at)
    # One string per entry; the latest report's details are in provider_details, not copied here.
    provider_time = iso(report.provider_time) if report.provider_time is not None else None
    entry = history_entry(report.status.value, report.source.value, received_at, provider_time, report.raw_status)
    # received_at, source, provider_time and first_seen_at are in the history (table.read_message).
    update = (
        UpdateBuilder()
        .set("status", report.status.value)
        .set("raw_status", report.raw_status)
        .set("event_time", event_time)
        .append("history", [entry])
        .set("expires_at", int((report.received_at + retention).timestamp()), keep_existing=True)
        .set("acct_pk", account_partition(report.provider, report.account, report.message_id))
        .set("acct_sk", listing_sort_key(received_at, report.message_id), keep_existing=True)
    )
    if report.destination:
        update.set("destination", report.destination, keep_existing=True)
    if report.details:
        update.set("provider_details", dict(report.details))
    if report.cost is not None:
        update.set("cost", report.cost.model_dump(exclude_none=True))
    if report.country is not None:  # the provider's word on the country outranks the calling code's
        update.set("country", report.country)
    if report.status.is_settled:
        update.remove("pending_pk", "pending_sk")
    else:
        update.set("pending_pk", pending_partition_of(report.provider, report.account, report.message_id))
        update.set("pending_sk", listing_sort_key(received_at, report.message_id), keep_existing=True)

    status = update.name("status")
    condition = [f"attribute_not_exists({status})"]
    allowed = replaceable_by(report.status, by_rule=report.source is Source.RULE)
    if Status.PENDING in allowed:
        pending = update.value(Status.PENDING.value, "pending")
        if report.status is Status.PENDING:
            history, newer, raw = update.name("history"), update.name("event_time"), update.name("raw_status")
            limit = update.value(HISTORY_LIMIT, "limit")
            condition.append(
                f"({status} = {pending} AND {newer} < {update.value(event_time, 'at')}"
                f" AND (attribute_not_exists({raw}) OR {raw} <> {update.value(report.raw_status, 'raw')})"
                f" AND (attribute_not_exists({history}) OR size({history}) < {limit}))"
            )
        else:
            condition.append(f"{status} = {pending}")
    for old in sorted(allowed - {Status.PENDING}):
        condition.append(f"{status} = {update.value(old.value, 'from')}")
    return update.arguments(" OR ".join(condition))


def build_registration(reg: Registration, now: datetime, retention: timedelta, *, pending: bool) -> dict[str, Any]:
    """The ``UpdateItem`` that records a registration; ``pending`` also files it as pending."""
    submitted = iso(reg.submitted_at)
    update = (
        UpdateBuilder()
        .set("destination", reg.destination)
        .set("submitted_at", submitted)
        .set("registered_at", iso(now))
        .set("status", Status.PENDING.value, keep_existing=True)
        .set("event_time", submitted, keep_existing=True)
        .set("expires_at", int((now + retention).timestamp()), keep_existing=True)
        .set("acct_pk", account_partition(reg.provider, reg.account, reg.message_id))
        .set("acct_sk", listing_sort_key(submitted, reg.message_id))
        # the number's country, unless a report named one first (the number is not what the scorecard keeps)
        .set("country", country_of_number(reg.destination), keep_existing=True)
    )
    if reg.parts is not None:
        update.set("parts", reg.parts)
    if reg.customer_ref is not None:
        update.set("customer_ref", reg.customer_ref)
        update.set("ref_pk", ref_partition(reg.customer_ref, reg.message_id))
        update.set("ref_sk", listing_sort_key(submitted, reg.message_id))
    registered = update.name("registered_at")
    condition = f"attribute_not_exists({registered})"
    if pending:
        update.set("pending_pk", pending_partition_of(reg.provider, reg.account, reg.message_id))
        update.set("pending_sk", listing_sort_key(submitted, reg.message_id))
        status = update.name("status")
        pending_value = update.value(Status.PENDING.value, "pending")
        condition += f" AND (attribute_not_exists({status}) OR {status} = {pending_value})"
    return update.arguments(condition)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidCursor("cursor is not one this API gave out") from None
    # Every key attribute of the table and its indexes is a string: {"name": {"S": "text"}}.
    if not isinstance(key, dict) or not all(
        isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values()
    ):
        raise InvalidCursor("cursor is not one this API gave out")
    return key


def check_cursor_belongs(start: dict[str, Any], index: str, base: str, sort_range: tuple[str, str]) -> None:
    """A cursor resumes only the listing it came from: same index, same account or reference, in range."""
    if set(start) != {"ix", "p", "sk", "pk"} or (start["ix"]["S"], start["p"]["S"]) != (index, base):
        raise InvalidCursor("cursor does not belong to this listing")
    if not sort_range[0] <= start["sk"]["S"] <= sort_range[1]:
        raise InvalidCursor("cursor does not belong to this listing")


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class MessageStore:
    """Messages and their statuses in one DynamoDB table. Thread-safe (boto3 clients are)."""

    def __init__(
        self, table_name: str, *, retention_days: int = 90, client: Any = None, max_connections: int = 10
    ) -> None:
        self._client = client or aws.client("dynamodb", pool=max_connections)
        self._table = table_name
        self._retention = timedelta(days=retention_days)
        #: Read capacity units consumed by pending-index queries (for the benchmark).
        self.read_units = 0.0
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The DynamoDB client, to share with the table's other stores (one per function)."""
        return self._client

    def _update(self, key: dict[str, str], update: dict[str, Any], **extra: Any) -> dict[str, Any]:
        update = {**update, "ExpressionAttributeValues": to_item(update["ExpressionAttributeValues"])}
        return self._client.update_item(TableName=self._table, Key=to_item(key), **update, **extra)

    def apply(self, report: StatusReport) -> ApplyResult:
        """Apply one report: stored if the rules let it in, ignored (not an error) if not."""
        key = message_key(report.provider, report.account, report.message_id)
        try:
            self._update(key, build_status_update(report, self._retention))
        except ClientError as error:
            if not _condition_failed(error):
                raise
            stored = (error.response.get("Item") or {}).get("status", {}).get("S")
            return ApplyResult(Outcome.IGNORED, Status(stored) if stored else None)
        return ApplyResult(Outcome.APPLIED)

    def register(self, reg: Registration, now: datetime) -> Registered:
        """Record what the customer sent. Again is not an error and changes nothing.

        First try: file it as pending too (no report yet, or only PENDING ones). If a final
        status got there first, record the registration beside it, out of the pending index.
        """
        key = message_key(reg.provider, reg.account, reg.message_id)
        for pending in (True, False):
            try:
                reply = self._update(
                    key, build_registration(reg, now, self._retention, pending=pending), ReturnValues="ALL_OLD"
                )
            except ClientError as error:
                if not _condition_failed(error):
                    raise
                if "registered_at" in (error.response.get("Item") or {}):
                    return Registered.ALREADY
                continue
            return Registered.MERGED if reply.get("Attributes") else Registered.NEW
        return Registered.ALREADY

    def get(self, provider: str, account: str, message_id: str) -> dict[str, Any] | None:
        reply = self._client.get_item(
            TableName=self._table, Key=to_item(message_key(provider, account, message_id)), ConsistentRead=True
        )
        return read_message(from_item(reply["Item"])) if "Item" in reply else None

    def pending(
        self, provider: str, account: str, *, before: datetime | None = None, page_size: int = 1000
    ) -> Iterator[list[str]]:
        """Pages of ids of the account's messages still pending, oldest first per shard.

        ``before``: only those pending since before that time (the no-receipt rule).
        Reads only the sparse ``pending`` index, whose keys carry the message id; its
        shards are read in parallel, each page handed on as it comes. A caller that stops
        early stops the reading.
        """
        for page in self.pending_entries(provider, account, before=before, page_size=page_size):
            yield [entry.message_id for entry in page]

    def pending_entries(
        self,
        provider: str,
        account: str,
        *,
        before: datetime | None = None,
        after: dict[int, str] | None = None,
        upto: dict[int, str] | None = None,
        page_size: int = 1000,
    ) -> Iterator[list[PendingEntry]]:
        """Pages of the account's pending entries, each shard oldest first, shards read in parallel.

        ``after``: shard -> a sort key: that shard from after it (a resume point). ``upto``: only
        the shards named, each up to its key (the rest of a round begun at a resume point)."""
        lows = after or {}
        shards = range(PENDING_SHARDS) if upto is None else sorted(upto)
        readers = [
            self._pending_range(
                provider, account, shard, before, page_size, lows.get(shard), upto.get(shard) if upto else None
            )
            for shard in shards
        ]
        yield from merged(readers)

    def _pending_range(
        self,
        provider: str,
        account: str,
        shard: int,
        before: datetime | None,
        page_size: int,
        low: str | None,
        high: str | None,
    ) -> Iterator[list[PendingEntry]]:
        """One shard's entries with ``low < pending_sk < high`` (either bound may be absent)."""
        values = {":p": {"S": pending_partition(provider, account, shard)}}
        condition = "pending_pk = :p"
        upper = min(filter(None, (iso(before) if before else None, high)), default=None)
        if low is not None:
            # sort keys are unique ({time}#{id}): strictly after the resume point
            condition += " AND pending_sk BETWEEN :low AND :high"
            values[":low"] = {"S": low + "\u0000"}
            values[":high"] = {"S": upper or PENDING_SORT_MAX}
        elif upper is not None:
            condition += " AND pending_sk < :high"
            values[":high"] = {"S": upper}
        args: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "pk, pending_sk",
            "Limit": page_size,
            "ReturnConsumedCapacity": "TOTAL",
        }
        while True:
            reply = self._client.query(**args)
            with self._lock:
                self.read_units += float(reply.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))
            entries = [
                PendingEntry(shard, item["pending_sk"]["S"], message_identity(item["pk"]["S"])[2])
                for item in reply.get("Items", [])
            ]
            if entries:
                yield entries
            if "LastEvaluatedKey" not in reply:
                return
            args["ExclusiveStartKey"] = reply["LastEvaluatedKey"]

    def _listing(
        self,
        index: str,
        base: str,
        partitions: list[str],
        sort_range: tuple[str, str],
        limit: int,
        cursor: str | None,
        status: Status | None = None,
    ) -> Page:
        """A page of message summaries, oldest first, from a listing index sharded over ``partitions``.

        Each partition is read from the cursor on (its entries sort by time, then id); the pages
        are merged, and the first ``limit`` taken: no partition can hold more of them than that.
        The cursor is the last entry given out, so it resumes every partition at once. The listing
        indexes carry no status (it changes with every report, and an index write would come with
        each), so a status filter is applied to the items read, reading on a bounded number of times.
        """
        limit = max(1, min(limit, MAX_PAGE))
        start = decode_cursor(cursor)
        if start:
            check_cursor_belongs(start, index, base, sort_range)
        after = (start["sk"]["S"], start["pk"]["S"]) if start else None
        items: list[dict[str, Any]] = []
        for _ in range(10):
            wanted = limit - len(items)
            entries = heapq.nsmallest(
                wanted, (e for p in partitions for e in self._partition_entries(index, p, sort_range, after, wanted))
            )
            if not entries:
                after = None
                break
            found = self._summaries([pk for _, pk in entries])
            items += [item for item in found if status is None or item.get("status") == status.value]
            after = entries[-1]
            if len(entries) < wanted or len(items) >= limit:
                after = after if len(entries) == wanted else None
                break
        if after is None:
            return Page(items, None)
        last = {"ix": index, "p": base, "sk": after[0], "pk": after[1]}
        return Page(items, encode_cursor({name: {"S": value} for name, value in last.items()}))

    def _partition_entries(
        self, index: str, partition: str, sort_range: tuple[str, str], after: tuple[str, str] | None, wanted: int
    ) -> list[tuple[str, str]]:
        """Up to ``wanted`` (sort key, pk) entries of one index partition in range, after ``after``
        (sort keys are unique in a partition: only the cursor's own entry is read again)."""
        pk_name, sk_name = LISTING_KEYS[index]
        args: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": f"{pk_name} = :p AND {sk_name} BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":p": {"S": partition},
                ":low": {"S": max(sort_range[0], after[0]) if after else sort_range[0]},
                ":high": {"S": sort_range[1]},
            },
            "Limit": wanted + 1,
        }
        found: list[tuple[str, str]] = []
        while len(found) < wanted:
            reply = self._client.query(**args)
            for entry in reply.get("Items", []):
                key = (entry[sk_name]["S"], entry["pk"]["S"])
                if after is None or key > after:
                    found.append(key)
            if "LastEvaluatedKey" not in reply:
                break
            args["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
        return found[:wanted]

    def _summaries(self, keys: list[str]) -> list[dict[str, Any]]:
        """The summary fields of the messages with these ``pk``s, in their order (BatchGetItem)."""
        found: dict[str, dict[str, Any]] = {}
        for first in range(0, len(keys), BATCH_GET):
            wanted = {"Keys": [typed_key(message_key_of(pk)) for pk in keys[first : first + BATCH_GET]]}
            wanted |= {"ProjectionExpression": ", ".join(f"#{n}" for n in SUMMARY_FIELDS)}
            wanted |= {"ExpressionAttributeNames": {f"#{n}": n for n in SUMMARY_FIELDS}}
            request = {self._table: wanted}
            for _ in range(8):  # unprocessed keys (throttling) are asked for again, a bounded number of times
                reply = self._client.batch_get_item(RequestItems=request)
                for item in reply.get("Responses", {}).get(self._table, []):
                    found[item["pk"]["S"]] = with_identity(from_item(item))
                request = reply.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise RuntimeError("DynamoDB left keys unprocessed: try again")
        return [found[pk] for pk in keys if pk in found]

    def list_by_ref(self, customer_ref: str, *, limit: int = 50, cursor: str | None = None) -> Page:
        """Messages registered with ``customer_ref``, oldest first."""
        partitions = ref_partitions(customer_ref)
        return self._listing(REF_INDEX, customer_ref, partitions, (LISTING_SORT_MIN, LISTING_SORT_MAX), limit, cursor)

    def list_by_account(
        self,
        provider: str,
        account: str,
        start: datetime,
        end: datetime,
        *,
        status: Status | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Messages of one account submitted (or first seen) in ``[start, end)``, oldest first."""
        low, high = iso_at_or_after(start), iso_before(end)
        if low > high:
            return Page([], None)  # no stored time (milliseconds) falls in so short a range
        partitions = account_partitions(provider, account)
        base = f"{provider}#{account}"
        sort_range = (low, high + LISTING_SORT_END)
        return self._listing(ACCOUNT_INDEX, base, partitions, sort_range, limit, cursor, status)
