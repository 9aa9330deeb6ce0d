"""The UpdateItem built for a report or a registration (pure); the store tests run them on DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dlrhub.models import Cost, Source, StatusReport
from dlrhub.registration import Registration
from dlrhub.status import Status
from dlrhub.store import build_registration, build_status_update, decode_cursor, encode_cursor
from dlrhub.table import pending_partition_of

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


def values_by_attribute(update: dict) -> dict[str, object]:
    """attribute -> value for the plain ``#a = :v`` assignments of an update."""
    found = {}
    for clause in update["UpdateExpression"].removeprefix("SET ").split(" REMOVE ")[0].split(", "):
        name, _, value = clause.partition(" = ")
        if value in update["ExpressionAttributeValues"]:
            found[update["ExpressionAttributeNames"][name]] = update["ExpressionAttributeValues"][value]
    return found


def test_final_report_leaves_the_pending_index_and_sets_ttl_once() -> None:
    update = build_status_update(report(Status.DELIVERED), timedelta(days=90))
    assert "REMOVE #pending_pk, #pending_sk" in update["UpdateExpression"]
    assert "#expires_at = if_not_exists(#expires_at, " in update["UpdateExpression"]
    assert int((NOW + timedelta(days=90)).timestamp()) in update["ExpressionAttributeValues"].values()
    condition = update["ConditionExpression"]
    assert condition.startswith("attribute_not_exists(#status) OR #status = :pending")
    assert condition.count(" OR ") == 1


def test_pending_report_enters_the_sharded_pending_index() -> None:
    update = build_status_update(report(Status.PENDING), timedelta(days=1))
    assert values_by_attribute(update)["pending_pk"] == pending_partition_of("infin8linx", "demo", "42")
    assert "2026-11-25T11:00:00.000Z#42" in update["ExpressionAttributeValues"].values()
    assert "REMOVE" not in update["UpdateExpression"]
    assert "size(#history) < :limit" in update["ConditionExpression"]


def test_read_may_replace_delivered() -> None:
    update = build_status_update(report(Status.READ), timedelta(days=1))
    assert update["ConditionExpression"].count(" OR ") == 2
    assert "DELIVERED" in update["ExpressionAttributeValues"].values()


def test_cost_and_details_are_kept() -> None:
    update = build_status_update(
        report(Status.DELIVERED, details={"fee": "0.0567"}, cost=Cost(amount="0.0567", currency="CNY", parts=1)),
        timedelta(days=1),
    )
    values = values_by_attribute(update)
    assert values["cost"] == {"amount": "0.0567", "currency": "CNY", "parts": 1}
    assert values["provider_details"] == {"fee": "0.0567"}


def test_registration_files_pending_only_while_no_final_status() -> None:
    reg = Registration(
        provider="infin8linx", account="demo", message_id="42", destination="628131565746", submitted_at=NOW
    )
    first = build_registration(reg, NOW, timedelta(days=1), pending=True)
    fallback = build_registration(reg, NOW, timedelta(days=1), pending=False)
    assert "pending_pk" in values_by_attribute(first)
    assert "pending_pk" not in values_by_attribute(fallback)
    assert first["ConditionExpression"].startswith("attribute_not_exists(#registered_at) AND")
    assert fallback["ConditionExpression"] == "attribute_not_exists(#registered_at)"
    assert "#status = if_not_exists(#status, " in first["UpdateExpression"]


def test_pending_shards_spread_messages() -> None:
    partitions = {pending_partition_of("p", "a", str(i)) for i in range(1000)}
    assert len(partitions) == 8


def test_cursor_round_trip_and_garbage() -> None:
    key = {"pk": {"S": "MSG#a"}, "sk": {"S": "MSG"}}
    assert decode_cursor(encode_cursor(key)) == key
    for bad in ("%%%", "bm90IGpzb24", encode_cursor({"pk": "plain"})):
        try:
            decode_cursor(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
