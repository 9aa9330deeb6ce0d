"""The UpdateItem built for a report (pure); the store tests run it on real DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dlrhub.models import Source, StatusReport
from dlrhub.status import Status
from dlrhub.store import build_status_update, pending_partition

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def report(status: Status, **extra) -> StatusReport:
    return StatusReport(
        provider="infin8linx",
        account="demo",
        message_id="42",
        status=status,
        raw_status="x",
        received_at=NOW,
        source=Source.WEBHOOK,
        **extra,
    )


def test_final_report_leaves_the_pending_index_and_sets_ttl_once() -> None:
    update = build_status_update(report(Status.DELIVERED), timedelta(days=90))
    assert "REMOVE #ppk, #psk" in update["UpdateExpression"]
    assert "#expires = if_not_exists(#expires, :expires)" in update["UpdateExpression"]
    assert update["ExpressionAttributeValues"][":expires"] == int((NOW + timedelta(days=90)).timestamp())
    assert update["ConditionExpression"] == "attribute_not_exists(#status) OR #status = :pending"


def test_pending_report_enters_the_sharded_pending_index() -> None:
    update = build_status_update(report(Status.PENDING), timedelta(days=1))
    values = update["ExpressionAttributeValues"]
    assert values[":ppk"] == pending_partition("infin8linx", "demo", "42")
    assert values[":psk"] == "2026-11-25T11:00:00.000Z#42"
    assert "REMOVE" not in update["UpdateExpression"]
    assert "size(#history) < :history_limit" in update["ConditionExpression"]


def test_read_may_replace_delivered() -> None:
    update = build_status_update(report(Status.READ), timedelta(days=1))
    assert update["ConditionExpression"] == "attribute_not_exists(#status) OR #status = :pending OR #status = :from0"
    assert update["ExpressionAttributeValues"][":from0"] == "DELIVERED"


def test_pending_shards_spread_messages() -> None:
    partitions = {pending_partition("p", "a", str(i)) for i in range(1000)}
    assert len(partitions) == 8
