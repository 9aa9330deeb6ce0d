"""The store on a real DynamoDB endpoint over HTTP: moto server and DynamoDB Local."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import HISTORY_LIMIT, Status, accepts
from dlrhub.table.keys import PENDING_INDEX, message_identity, pending_partition_of
from dlrhub.table.messages import MessageStore, Outcome
from tests.support import create_table

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def table_name(dynamodb_endpoint: str) -> str:
    return create_table(dynamodb_endpoint)


@pytest.fixture(scope="module")
def store(dynamodb_endpoint: str, table_name: str) -> MessageStore:
    return MessageStore(table_name, client=boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))


@pytest.fixture
def client(dynamodb_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)


_ids = itertools.count()


def new_id() -> str:
    return f"m{next(_ids)}-{datetime.now(UTC).timestamp():.6f}"


def report(message_id: str, status: Status, minute: int = 0, **extra: Any) -> StatusReport:
    return StatusReport(
        provider="infin8linx",
        account="demo",
        message_id=message_id,
        status=status,
        raw_status=extra.pop("raw", status.value.lower()),
        received_at=T0 + timedelta(minutes=minute),
        source=extra.pop("source", Source.WEBHOOK),
        **extra,
    )


def test_first_report_for_an_unknown_message_is_stored_with_everything(store: MessageStore) -> None:
    mid = new_id()
    when = T0 - timedelta(seconds=30)
    result = store.apply(report(mid, Status.DELIVERED, raw="1", provider_time=when, destination="628131565746"))
    assert result.outcome is Outcome.APPLIED
    item = store.get("infin8linx", "demo", mid)
    assert item is not None
    assert item["status"] == "DELIVERED"
    assert item["raw_status"] == "1"
    assert item["provider_time"] == "2026-11-25T09:59:30.000Z"
    assert item["received_at"] == "2026-11-25T10:00:00.000Z"
    assert item["first_seen_at"] == "2026-11-25T10:00:00.000Z"
    assert item["destination"] == "628131565746"
    assert item["source"] == "webhook"
    assert int(item["expires_at"]) == int((T0 + timedelta(days=90)).timestamp())
    assert [entry["status"] for entry in item["history"]] == ["DELIVERED"]
    assert "pending_pk" not in item


def test_expiry_is_set_by_the_first_report_and_kept(store: MessageStore) -> None:
    mid = new_id()
    store.apply(report(mid, Status.PENDING))
    store.apply(report(mid, Status.DELIVERED, minute=60 * 24 * 30))  # a month later
    assert int(store.get("infin8linx", "demo", mid)["expires_at"]) == int((T0 + timedelta(days=90)).timestamp())


def test_duplicate_is_ignored_and_changes_nothing(store: MessageStore) -> None:
    mid = new_id()
    assert store.apply(report(mid, Status.FAILED)).outcome is Outcome.APPLIED
    before = store.get("infin8linx", "demo", mid)
    again = store.apply(report(mid, Status.FAILED, minute=5))
    assert again.outcome is Outcome.IGNORED
    assert again.stored_status is Status.FAILED
    assert store.get("infin8linx", "demo", mid) == before


def test_late_pending_never_moves_a_final_status_back(store: MessageStore) -> None:
    mid = new_id()
    store.apply(report(mid, Status.DELIVERED, minute=1))
    assert store.apply(report(mid, Status.PENDING, minute=9)).stored_status is Status.DELIVERED
    assert store.get("infin8linx", "demo", mid)["status"] == "DELIVERED"


def test_read_upgrades_delivered_and_both_stay_in_history(store: MessageStore) -> None:
    mid = new_id()
    store.apply(report(mid, Status.PENDING))
    store.apply(report(mid, Status.DELIVERED, minute=1))
    assert store.apply(report(mid, Status.READ, minute=2)).outcome is Outcome.APPLIED
    item = store.get("infin8linx", "demo", mid)
    assert item["status"] == "READ"
    assert [e["status"] for e in item["history"]] == ["PENDING", "DELIVERED", "READ"]


def test_pending_index_holds_only_messages_still_waiting(
    store: MessageStore, client: Any, table_name: str, dynamodb_endpoint: str
) -> None:
    waiting, done = new_id(), new_id()
    store.apply(report(waiting, Status.PENDING))
    store.apply(report(done, Status.PENDING))
    store.apply(report(done, Status.EXPIRED, minute=3))

    def in_index(mid: str) -> bool:
        reply = client.query(
            TableName=table_name,
            IndexName=PENDING_INDEX,
            KeyConditionExpression="pending_pk = :p",
            ExpressionAttributeValues={":p": {"S": pending_partition_of("infin8linx", "demo", mid)}},
        )
        return any(message_identity(item["pk"]["S"])[2] == mid for item in reply["Items"])

    assert in_index(waiting)
    assert not in_index(done)


def test_the_same_pending_word_again_adds_nothing(store: MessageStore) -> None:
    mid = new_id()
    assert store.apply(report(mid, Status.PENDING, raw="send")).outcome is Outcome.APPLIED
    assert store.apply(report(mid, Status.PENDING, minute=5, raw="send")).outcome is Outcome.IGNORED
    assert store.apply(report(mid, Status.PENDING, minute=6, raw="partly_deliver")).outcome is Outcome.APPLIED
    assert [e["raw_status"] for e in store.get("infin8linx", "demo", mid)["history"]] == ["send", "partly_deliver"]


def test_pending_refreshes_stop_at_the_history_limit(store: MessageStore) -> None:
    mid = new_id()
    words = [f"queued-{m}" for m in range(HISTORY_LIMIT + 3)]  # each refresh says something new
    outcomes = [store.apply(report(mid, Status.PENDING, minute=m, raw=w)).outcome for m, w in enumerate(words)]
    assert outcomes.count(Outcome.APPLIED) == HISTORY_LIMIT
    assert store.apply(report(mid, Status.DELIVERED, minute=60)).outcome is Outcome.APPLIED
    assert len(store.get("infin8linx", "demo", mid)["history"]) == HISTORY_LIMIT + 1


@pytest.mark.parametrize(("stored", "new"), list(itertools.product([None, *Status], list(Status))))
def test_dynamodb_condition_agrees_with_the_pure_rule(store: MessageStore, stored: Status | None, new: Status) -> None:
    mid = new_id()
    if stored is not None:
        store.apply(report(mid, stored))
    result = store.apply(report(mid, new, minute=1))
    expected = accepts(
        stored,
        "2026-11-25T10:00:00.000Z",
        1,
        new,
        "2026-11-25T10:01:00.000Z",
        current_raw=stored.value.lower() if stored else None,
        new_raw=new.value.lower(),
    )
    assert (result.outcome is Outcome.APPLIED) is expected


FINALS = [s for s in Status if s.is_final and s is not Status.READ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    truth=st.sampled_from(FINALS),
    read=st.booleans(),
    order=st.randoms(use_true_random=False),
    copies=st.integers(min_value=0, max_value=3),
)
def test_shuffled_and_duplicated_reports_end_the_same_on_dynamodb(
    store: MessageStore, truth: Status, read: bool, order: Any, copies: int
) -> None:
    mid = new_id()
    reports = [report(mid, Status.PENDING, minute=0), report(mid, truth, minute=1)]
    read = read and truth is Status.DELIVERED
    if read:
        reports.append(report(mid, Status.READ, minute=2))
    reports += reports[:copies]
    order.shuffle(reports)
    for one in reports:
        store.apply(one)
    assert store.get("infin8linx", "demo", mid)["status"] == (Status.READ if read else truth).value


def test_concurrent_writers_cannot_lose_a_final_status(store: MessageStore, dynamodb_endpoint: str, request) -> None:
    from concurrent.futures import ThreadPoolExecutor

    if "moto" in request.node.callspec.id:
        pytest.skip("moto server does not make conditional writes atomic under concurrency; DynamoDB Local does")

    mid = new_id()
    reports = [report(mid, Status.PENDING, minute=m) for m in range(6)] + [report(mid, Status.DELIVERED, minute=3)]
    with ThreadPoolExecutor(max_workers=7) as pool:
        list(pool.map(store.apply, reports * 2))
    item = store.get("infin8linx", "demo", mid)
    assert item["status"] == "DELIVERED"
    assert sum(e["status"] == "DELIVERED" for e in item["history"]) == 1
