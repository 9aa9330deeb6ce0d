"""The scale benchmark's watch: transactions on a shared item clash as DynamoDB's do on AWS."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dlrhub_measure.scale.watch import Watch, index_writes, per_key_peak


def transact(keys: list[str]) -> dict[str, Any]:
    return {"TransactItems": [{"Update": {"Key": {"pk": {"S": key}, "sk": {"S": "0"}}}} for key in keys]}


def test_a_transaction_on_an_item_another_one_holds_is_refused_with_aws_error_shape() -> None:
    watch = Watch(hold=0.2)
    entered = threading.Event()

    def slow(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        entered.set()
        return {}

    first = threading.Thread(target=watch.call, args=(slow, None, "TransactWriteItems", transact(["STATS#a"])))
    first.start()
    entered.wait(5)
    time.sleep(0.02)
    with pytest.raises(ClientError) as refused:
        watch.call(slow, None, "TransactWriteItems", transact(["STATS#b", "STATS#a"]))
    first.join(5)
    error = refused.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error["CancellationReasons"]] == ["None", "TransactionConflict"]
    assert watch.conflicts == 1
    # once the first one is done, the item is free again
    watch.call(slow, None, "TransactWriteItems", transact(["STATS#a"]))
    assert watch.conflicts == 1


def test_transactions_on_different_items_both_go_through() -> None:
    watch = Watch(hold=0.1)
    threads = [
        threading.Thread(target=watch.call, args=(lambda *_: {}, None, "TransactWriteItems", transact([key])))
        for key in ("STATS#x", "STATS#y")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert watch.conflicts == 0


def test_writes_are_counted_per_key_and_second() -> None:
    watch = Watch()
    for second, key in ((0, "MSG#a"), (0, "MSG#a"), (1, "MSG#a"), (1, "MSG#b")):
        watch.second = second
        watch.call(lambda *_: {}, None, "UpdateItem", {"Key": {"pk": {"S": key}, "sk": {"S": "MSG"}}})
    assert per_key_peak(watch.writes) == {"MSG": ("MSG#a|MSG", 2)}


def test_index_writes_are_read_from_the_stream_images() -> None:
    moved = {
        "dynamodb": {"OldImage": {"g": {"S": "p1"}, "s": {"S": "1"}}, "NewImage": {"g": {"S": "p2"}, "s": {"S": "2"}}}
    }
    unchanged = {
        "dynamodb": {"OldImage": {"g": {"S": "p1"}, "s": {"S": "1"}}, "NewImage": {"g": {"S": "p1"}, "s": {"S": "1"}}}
    }
    left = {"dynamodb": {"OldImage": {"g": {"S": "p1"}, "s": {"S": "1"}}, "NewImage": {}}}
    found = index_writes([moved, unchanged, left], {"ix": ("g", "s")}, lambda n: 0)
    # a moved key: a delete in one partition and a put in another; unchanged keys: no index write
    assert found["ix"] == {(0, "p1"): 2, (0, "p2"): 1}
