"""Registration and the listings on a real DynamoDB endpoint over HTTP: moto server and DynamoDB Local."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from dlrhub.domain.registration import Registration
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.table.keys import (
    LISTING_SHARDS,
    PENDING_INDEX,
    message_identity,
    message_key,
    pending_partition_of,
    typed_key,
)
from dlrhub.table.messages import InvalidCursor, MessageStore, Page, Registered
from tests.support import create_table

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
_ids = itertools.count()


@pytest.fixture(scope="module")
def client(dynamodb_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)


@pytest.fixture(scope="module")
def table_name(dynamodb_endpoint: str) -> str:
    return create_table(dynamodb_endpoint)


@pytest.fixture(scope="module")
def store(client: Any, table_name: str) -> MessageStore:
    return MessageStore(table_name, client=client)


def new_id() -> str:
    return f"r{next(_ids)}-{datetime.now(UTC).timestamp():.6f}"


def new_account() -> str:
    """Listings read whole partitions: each listing test gets an account of its own."""
    return f"acct-{new_id().replace('.', '-')}"


def registration(message_id: str, account: str = "demo", minute: int = 0, **extra: Any) -> Registration:
    return Registration(
        provider="infin8linx",
        account=account,
        message_id=message_id,
        destination=extra.pop("destination", "628131565746"),
        submitted_at=T0 + timedelta(minutes=minute),
        **extra,
    )


def report(message_id: str, status: Status, account: str = "demo") -> StatusReport:
    return StatusReport(
        provider="infin8linx",
        account=account,
        message_id=message_id,
        status=status,
        raw_status=status.value.lower(),
        received_at=T0 - timedelta(minutes=5),
        source=Source.WEBHOOK,
    )


def raw_item(client: Any, table_name: str, message_id: str, account: str = "demo") -> dict[str, Any]:
    """The item exactly as DynamoDB holds it (no deserialisation in between)."""
    key = typed_key(message_key("infin8linx", account, message_id))
    return client.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]


def in_pending_index(client: Any, table_name: str, message_id: str, account: str = "demo") -> bool:
    reply = client.query(
        TableName=table_name,
        IndexName=PENDING_INDEX,
        KeyConditionExpression="pending_pk = :p",
        ExpressionAttributeValues={":p": {"S": pending_partition_of("infin8linx", account, message_id)}},
    )
    return any(message_identity(item["pk"]["S"])[2] == message_id for item in reply["Items"])


def follow(list_page: Any, limit: int) -> list[list[str]]:
    """Every page of a listing, following cursors to the end: the message ids of each page."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(50):
        page: Page = list_page(limit=limit, cursor=cursor)
        pages.append([item["message_id"] for item in page.items])
        cursor = page.cursor
        if cursor is None:
            return pages
    raise AssertionError("the listing never ended")


def flat(pages: list[list[str]]) -> list[str]:
    return [message_id for page in pages for message_id in page]


# --- registration -------------------------------------------------------------------------


def test_new_registration_is_pending_with_every_field(store: MessageStore, client: Any, table_name: str) -> None:
    mid = new_id()
    reg = registration(mid, minute=3, parts=2, customer_ref="order-7")
    assert store.register(reg, NOW) is Registered.NEW
    item = store.get("infin8linx", "demo", mid)
    assert item is not None
    assert item["status"] == "PENDING"
    assert item["destination"] == "628131565746"
    assert item["submitted_at"] == "2026-11-25T10:03:00.000Z"
    assert item["event_time"] == "2026-11-25T10:03:00.000Z"
    assert item["registered_at"] == item["first_seen_at"] == "2026-11-25T11:00:00.000Z"
    assert int(item["parts"]) == 2
    assert item["customer_ref"] == "order-7"
    assert int(item["expires_at"]) == int((NOW + timedelta(days=90)).timestamp())
    assert "raw_status" not in item  # no report yet
    assert in_pending_index(client, table_name, mid)


def test_registering_again_is_already_and_changes_nothing(store: MessageStore, client: Any, table_name: str) -> None:
    mid = new_id()
    assert store.register(registration(mid, customer_ref="first"), NOW) is Registered.NEW
    before = raw_item(client, table_name, mid)
    changed = registration(mid, minute=9, destination="4915112345678", customer_ref="second", parts=3)
    assert store.register(changed, NOW + timedelta(minutes=30)) is Registered.ALREADY
    assert raw_item(client, table_name, mid) == before


def test_final_report_before_registration_is_merged_and_kept(store: MessageStore, client: Any, table_name: str) -> None:
    mid = new_id()
    store.apply(report(mid, Status.DELIVERED))
    assert not in_pending_index(client, table_name, mid)
    assert store.register(registration(mid, minute=1, customer_ref="order-8"), NOW) is Registered.MERGED
    item = store.get("infin8linx", "demo", mid)
    assert item["status"] == "DELIVERED"
    assert item["raw_status"] == "delivered"
    assert [entry["status"] for entry in item["history"]] == ["DELIVERED"]
    assert item["registered_at"] == "2026-11-25T11:00:00.000Z"
    assert item["submitted_at"] == "2026-11-25T10:01:00.000Z"
    assert item["customer_ref"] == "order-8"
    assert item["first_seen_at"] == "2026-11-25T09:55:00.000Z"  # the report's, not the registration's
    assert "pending_pk" not in item
    assert not in_pending_index(client, table_name, mid)
    assert store.register(registration(mid), NOW) is Registered.ALREADY


def test_pending_report_before_registration_is_merged_and_still_pending(
    store: MessageStore, client: Any, table_name: str
) -> None:
    mid = new_id()
    store.apply(report(mid, Status.PENDING))
    assert store.register(registration(mid, minute=2), NOW) is Registered.MERGED
    item = store.get("infin8linx", "demo", mid)
    assert item["status"] == "PENDING"
    assert item["registered_at"] == "2026-11-25T11:00:00.000Z"
    assert [entry["status"] for entry in item["history"]] == ["PENDING"]
    assert in_pending_index(client, table_name, mid)


# --- listings -----------------------------------------------------------------------------


def seed_account(store: MessageStore, account: str, minutes: list[int], ref: str | None = None) -> list[str]:
    """Register one message per minute given, in the order given; the ids sorted by submitted time."""
    ids = {minute: f"{account}-m{minute:02d}" for minute in minutes}
    for minute in minutes:
        store.register(registration(ids[minute], account=account, minute=minute, customer_ref=ref), NOW)
    return [ids[minute] for minute in sorted(minutes)]


def test_list_by_ref_pages_through_everything_once_oldest_first(store: MessageStore) -> None:
    account, ref = new_account(), f"ref-{new_id()}"
    expected = seed_account(store, account, [4, 1, 3, 0, 2], ref=ref)
    seed_account(store, account, [7, 8])  # same account, no reference: not listed
    pages = follow(lambda **kw: store.list_by_ref(ref, **kw), limit=2)
    assert [len(page) for page in pages[:3]] == [2, 2, 1]
    assert flat(pages) == expected


def test_list_by_account_pages_through_everything_once_oldest_first(store: MessageStore) -> None:
    account = new_account()
    expected = seed_account(store, account, [4, 1, 3, 0, 2])
    pages = follow(lambda **kw: store.list_by_account("infin8linx", account, T0, T0 + timedelta(hours=1), **kw), 2)
    assert [len(page) for page in pages[:3]] == [2, 2, 1]
    assert flat(pages) == expected
    summary = store.list_by_account("infin8linx", account, T0, T0 + timedelta(hours=1), limit=1).items[0]
    assert (summary["status"], summary["submitted_at"]) == ("PENDING", "2026-11-25T10:00:00.000Z")


def test_list_by_account_range_is_half_open(store: MessageStore) -> None:
    account = new_account()
    ids = seed_account(store, account, [0, 1, 2, 3])
    start, end = T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)
    page = store.list_by_account("infin8linx", account, start, end)
    assert [item["message_id"] for item in page.items] == ids[1:3]  # minute 1 in, minute 3 out
    assert page.cursor is None


def test_list_by_account_range_compares_instants_not_zones(store: MessageStore) -> None:
    account = new_account()
    ids = seed_account(store, account, [0, 1, 2])
    start = (T0 + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=3)))  # 13:01+03:00
    page = store.list_by_account("infin8linx", account, start, start + timedelta(minutes=5))
    assert [item["message_id"] for item in page.items] == ids[1:]


def test_status_filter_fills_a_short_page_by_reading_on(store: MessageStore) -> None:
    account = new_account()
    ids = seed_account(store, account, [0, 1, 2, 3, 4])
    for delivered in (ids[1], ids[2]):
        store.apply(report(delivered, Status.DELIVERED, account=account))

    def pending_page(**kw: Any) -> Page:
        window = (T0, T0 + timedelta(hours=1))
        return store.list_by_account("infin8linx", account, *window, status=Status.PENDING, **kw)

    # The first two index entries hold one PENDING message: the store must read on to fill the page.
    first = pending_page(limit=2)
    assert [item["message_id"] for item in first.items] == [ids[0], ids[3]]
    assert all(item["status"] == "PENDING" for item in first.items)
    assert flat(follow(pending_page, limit=2)) == [ids[0], ids[3], ids[4]]
    delivered = store.list_by_account(
        "infin8linx", account, T0, T0 + timedelta(hours=1), status=Status.DELIVERED, limit=10
    )
    assert [item["message_id"] for item in delivered.items] == [ids[1], ids[2]]


def forged(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def test_invalid_and_foreign_cursors_are_refused(store: MessageStore) -> None:
    account, other, ref = new_account(), new_account(), f"ref-{new_id()}"
    seed_account(store, account, [0, 1, 2], ref=ref)
    seed_account(store, other, [0, 1, 2], ref=f"{ref}-other")
    window = (T0, T0 + timedelta(hours=1))
    by_account = store.list_by_account("infin8linx", account, *window, limit=1).cursor
    by_ref = store.list_by_ref(ref, limit=1).cursor
    assert by_account
    assert by_ref

    attempts = {
        "not base64": lambda: store.list_by_ref(ref, cursor="%%%not a cursor"),
        "not a key": lambda: store.list_by_ref(ref, cursor=forged([1, 2])),
        "wrong type": lambda: store.list_by_ref(ref, cursor=forged({"pk": {"N": "1"}})),
        "not text": lambda: store.list_by_ref(ref, cursor=forged({"pk": {"S": 5}})),
        "unknown type": lambda: store.list_by_ref(ref, cursor=forged({"pk": {"Q": "x"}})),
        "ref cursor on account": lambda: store.list_by_account("infin8linx", account, *window, cursor=by_ref),
        "account cursor on ref": lambda: store.list_by_ref(ref, cursor=by_account),
        "other account": lambda: store.list_by_account("infin8linx", other, *window, cursor=by_account),
        "other ref": lambda: store.list_by_ref(f"{ref}-other", cursor=by_ref),
        "outside the range": lambda: store.list_by_account(
            "infin8linx", account, T0 + timedelta(hours=2), T0 + timedelta(hours=3), cursor=by_account
        ),
    }
    accepted = []
    for name, attempt in attempts.items():
        try:
            attempt()
        except InvalidCursor:
            continue
        accepted.append(name)
    assert accepted == []
    # the genuine cursors still work
    assert len(store.list_by_account("infin8linx", account, *window, cursor=by_account).items) == 2
    assert len(store.list_by_ref(ref, cursor=by_ref).items) == 2


def test_a_campaign_registered_in_one_moment_spreads_over_the_shards_and_pages_once(
    store: MessageStore, client: Any, table_name: str
) -> None:
    """A campaign registers its messages with one submitted_at and one reference: its listing entries
    spread over the index shards (no hot partition), and both listings still give each message once,
    in (time, id) order, across pages that cut through that one moment."""
    account, ref = new_account(), f"campaign-{new_id()}"
    ids = sorted(f"c{n:03d}" for n in range(60))
    for message_id in ids:
        store.register(registration(message_id, account, customer_ref=ref), NOW)
    partitions = {raw_item(client, table_name, mid, account)["acct_pk"]["S"] for mid in ids}
    refs = {raw_item(client, table_name, mid, account)["ref_pk"]["S"] for mid in ids}
    assert len(partitions) == len(refs) == LISTING_SHARDS
    by_account = follow(lambda **kw: store.list_by_account("infin8linx", account, T0, NOW, **kw), limit=7)
    by_ref = follow(lambda **kw: store.list_by_ref(ref, **kw), limit=7)
    assert flat(by_account) == flat(by_ref) == ids
    assert max(len(page) for page in by_account) == 7


def test_the_country_is_the_numbers_unless_a_report_names_one(
    client: Any, table_name: str, store: MessageStore
) -> None:
    """Registration stores the country of the number's calling code, never over a report's own; a
    report that names one replaces it (docs/statistics.md, "Countries")."""
    first, second = new_id(), new_id()
    store.register(registration(first, destination="14165550123"), NOW)
    assert raw_item(client, table_name, first)["country"] == {"S": "CA"}
    store.apply(report(first, Status.DELIVERED).model_copy(update={"country": "US"}))
    assert raw_item(client, table_name, first)["country"] == {"S": "US"}
    store.apply(report(second, Status.DELIVERED).model_copy(update={"country": "ID"}))
    store.register(registration(second, destination="447700900123"), NOW)
    item = raw_item(client, table_name, second)
    assert (item["country"], "registered_at" in item) == ({"S": "ID"}, True)
