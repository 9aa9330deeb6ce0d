"""The local stream reader behaves as Lambda's event source mapping, against a scripted stream."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from dlrhub.table.keys import counter_key, message_key, to_item
from dlrhub_local.stream_reader import MappingSettings, Positions, StreamReader
from dlrhub_local.template import Template
from tests.support import TEMPLATE

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/1"
CREATED = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)


def record(sequence: int, key: str) -> dict[str, Any]:
    return {
        "eventID": f"e{sequence}",
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": CREATED,
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}},
            "SequenceNumber": f"{sequence:021d}",
        },
    }


class FakeStream:
    """DescribeStream (one shard a page), iterators, GetRecords; shards close when told; errors on demand."""

    def __init__(self) -> None:
        self.shards: dict[str, dict[str, Any]] = {}
        self.errors: list[Exception] = []
        self.iterators_issued = 0

    def add_shard(self, shard: str, records: list[dict[str, Any]], parent: str | None = None) -> None:
        self.shards[shard] = {"records": records, "parent": parent, "closed": False}

    # DynamoDB and DynamoDB Streams, as far as the reader uses them
    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"LatestStreamArn": ARN}}

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        names = sorted(self.shards)
        start = names.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = names[start : start + 1]
        shards = [
            {"ShardId": name, **({"ParentShardId": self.shards[name]["parent"]} if self.shards[name]["parent"] else {})}
            for name in page
        ]
        description: dict[str, Any] = {"Shards": shards}
        if start + 1 < len(names):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str | None = None
    ) -> dict[str, Any]:
        self.iterators_issued += 1
        records = self.shards[ShardId]["records"]
        position = 0
        if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            position = next(i + 1 for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == SequenceNumber)
        return {"ShardIterator": f"{ShardId}|{position}|{self.iterators_issued}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if self.errors:
            raise self.errors.pop(0)
        shard, position, _ = ShardIterator.split("|")
        records = self.shards[shard]["records"]
        start = int(position)
        found = records[start : start + Limit]
        reply: dict[str, Any] = {"Records": found}
        end = start + len(found)
        if not (self.shards[shard]["closed"] and end >= len(records)):
            reply["NextShardIterator"] = f"{shard}|{end}|{self.iterators_issued}"
        return reply


class Function:
    """The stream function: records every event; raises for records whose key is in ``poison``."""

    def __init__(self, poison: set[str] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.poison = poison or set()
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.events.append(event)
        keys = {r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]}
        if keys & self.poison:
            raise RuntimeError(f"cannot handle {sorted(keys & self.poison)}")
        return {"state": {"calls": event.get("state", {}).get("calls", 0) + 1}}

    def delivered(self) -> list[str]:
        """Keys of the records of the calls that succeeded, in order."""
        return [
            r["dynamodb"]["Keys"]["pk"]["S"]
            for e in self.events
            if not {r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]} & self.poison
            for r in e["Records"]
        ]


class NoWait(threading.Event):
    """A stop event whose waits return at once: backoff without the time."""

    def wait(self, timeout: float | None = None) -> bool:
        return self.is_set()


class Clock:
    def __init__(self) -> None:
        self.now = CREATED.timestamp() + 1

    def __call__(self) -> float:
        return self.now


def reader(
    stream: FakeStream,
    function: Function,
    tmp_path: Path,
    settings: MappingSettings,
    lines: list[str],
    clock: Clock,
    positions: Positions | None = None,
    stop: threading.Event | None = None,
) -> StreamReader:
    return StreamReader(
        streams=stream,
        dynamodb=stream,
        table_name="t",
        settings=settings,
        invoke=function,
        emit=lines.append,
        stop=stop or threading.Event(),
        parked=tmp_path / "parked.jsonl",
        positions=positions,
        clock=clock,
        monotonic=clock,
        retry_waits=(0, 0),
    )


def drain(stream_reader: StreamReader, clock: Clock, steps: int = 50) -> None:
    for _ in range(steps):
        stream_reader.step()
        clock.now += 0.5


SETTINGS = MappingSettings(batch_size=4, batching_window=1, tumbling_window=60, bisect=True, max_retries=3)


def test_the_settings_are_the_templates() -> None:
    settings = MappingSettings.from_template(Template(TEMPLATE), "StreamFunction")
    filters = ({"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["MSG"]}}}},)
    assert settings == MappingSettings(
        batch_size=50, batching_window=1, tumbling_window=60, bisect=True, max_retries=20, filters=filters
    )


def ttl_removal(key: dict[str, Any]) -> dict[str, Any]:
    """A TTL deletion as DynamoDB Streams records it (AWS: "Time to Live and DynamoDB Streams")."""
    return {
        "eventName": "REMOVE",
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "dynamodb": {"Keys": to_item(key), "OldImage": to_item({**key, "status": "DELIVERED"})},
    }


def test_the_templates_filter_drops_ttl_removals_and_the_hubs_own_items() -> None:
    settings = MappingSettings.from_template(Template(TEMPLATE), "StreamFunction")
    message = message_key("infin8linx", "demo", "1")
    assert not settings.wanted(ttl_removal(message))  # 10 M no-op records a day from day 91
    for event in ("INSERT", "MODIFY"):
        assert settings.wanted({"eventName": event, "dynamodb": {"Keys": to_item(message)}})
        assert not settings.wanted({"eventName": event, "dynamodb": {"Keys": to_item(counter_key("a", "b", "c", "d"))}})


@pytest.mark.parametrize(
    ("pattern", "wanted", "unwanted"),
    [
        ({"dynamodb": {"Keys": {"pk": {"S": ["k1", "k2"]}}}}, ["k1", "k2"], ["k3"]),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "k1"}]}}}}, ["k1", "k10"], ["k2"]),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"anything-but": ["k1"]}]}}}}, ["k2"], ["k1"]),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, ["k1"], []),
        ({"eventName": ["MODIFY"]}, [], ["k1"]),
    ],
)
def test_filters_match_as_lambdas_event_filtering(pattern: dict, wanted: list[str], unwanted: list[str]) -> None:
    settings = MappingSettings(filters=(pattern,))
    assert [settings.wanted(record(1, key)) for key in wanted] == [True] * len(wanted)
    assert [settings.wanted(record(1, key)) for key in unwanted] == [False] * len(unwanted)


def test_a_filter_this_reader_cannot_apply_is_refused() -> None:
    with pytest.raises(ValueError, match="numeric"):
        MappingSettings.from_event(
            {"FilterCriteria": {"Filters": [{"Pattern": '{"dynamodb": {"SizeBytes": [{"numeric": [">", 0]}]}}'}]}}
        )


def test_filtered_records_never_reach_the_function(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"{'STATS' if i % 2 else 'MSG'}{i}") for i in range(1, 7)])
    settings = MappingSettings(batch_size=10, filters=({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "MSG"}]}}}},))
    drain(reader(stream, function, tmp_path, settings, lines, clock), clock)
    assert function.delivered() == ["MSG2", "MSG4", "MSG6"]


def test_every_record_in_order_in_batches_with_shard_window_and_state(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"k{i}") for i in range(1, 11)])
    drain(reader(stream, function, tmp_path, SETTINGS, lines, clock), clock)
    assert function.delivered() == [f"k{i}" for i in range(1, 11)]
    batches = [e for e in function.events if e["Records"]]
    assert all(len(e["Records"]) <= 4 for e in batches)
    assert {e["shardId"] for e in function.events} == {"shardId-1"}
    assert batches[0]["window"] == {"start": "2026-11-25T10:00:00Z", "end": "2026-11-25T10:01:00Z"}
    assert [e["state"] for e in batches] == [{}, {"calls": 1}, {"calls": 2}]  # the state goes on in the window
    record_sent = batches[0]["Records"][0]
    assert record_sent["eventSourceARN"] == ARN
    assert record_sent["dynamodb"]["ApproximateCreationDateTime"] == CREATED.timestamp()  # a number, as Lambda's


def test_the_window_ends_with_a_final_call(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(), [], Clock()
    stream.add_shard("shardId-1", [record(1, "k1")])
    stream_reader = reader(stream, function, tmp_path, SETTINGS, lines, clock)
    drain(stream_reader, clock, 5)
    clock.now = CREATED.timestamp() + 61
    drain(stream_reader, clock, 2)
    assert [(len(e["Records"]), e["isFinalInvokeForWindow"]) for e in function.events] == [(1, False), (0, True)]
    assert function.events[1]["state"] == {"calls": 1}


def test_a_closed_shard_is_read_to_its_end_then_its_child(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"p{i}") for i in range(1, 6)])
    stream.add_shard("shardId-2", [record(i, f"c{i}") for i in range(6, 9)], parent="shardId-1")
    stream_reader = reader(stream, function, tmp_path, SETTINGS, lines, clock)
    drain(stream_reader, clock, 10)
    assert function.delivered() == [f"p{i}" for i in range(1, 6)]  # the child waits for its parent
    stream.shards["shardId-1"]["closed"] = True
    stream.shards["shardId-1"]["records"].append(record(5, "p5b"))  # written just before it closed
    drain(stream_reader, clock)
    assert function.delivered() == [*(f"p{i}" for i in range(1, 6)), "p5b", "c6", "c7", "c8"]
    assert {e["shardId"] for e in function.events if e["Records"][:1] and e["Records"][0]["eventID"] == "e6"} == {
        "shardId-2"
    }


def test_a_failing_record_is_bisected_out_retried_then_parked_never_dropped(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(poison={"k3"}), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"k{i}") for i in range(1, 9)])
    drain(reader(stream, function, tmp_path, SETTINGS, lines, clock), clock)
    assert function.delivered() == ["k1", "k2", "k4", "k5", "k6", "k7", "k8"]
    alone = [e for e in function.events if [r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] == ["k3"]]
    assert len(alone) == 1 + SETTINGS.max_retries  # bisecting counts no retry
    [parked] = [json.loads(line) for line in (tmp_path / "parked.jsonl").read_text().splitlines()]
    info = parked["DDBStreamBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["batchSize"]) == ("shardId-1", f"{3:021d}", 1)
    assert parked["keys"] == [{"pk": {"S": "k3"}}]
    assert parked["requestContext"]["approximateInvokeCount"] == 1 + SETTINGS.max_retries
    assert "RuntimeError: cannot handle ['k3']" in parked["error"]
    assert sum("PARKED" in line for line in lines) == 1
    assert sum("StreamFunction failed" in line for line in lines) == 1  # one traceback per failed batch


def test_without_bisect_the_whole_batch_is_retried_then_parked(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(poison={"k2"}), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"k{i}") for i in range(1, 4)])
    settings = MappingSettings(batch_size=10, batching_window=0, max_retries=2)
    drain(reader(stream, function, tmp_path, settings, lines, clock), clock)
    assert [len(e["Records"]) for e in function.events] == [3, 3, 3]
    assert json.loads((tmp_path / "parked.jsonl").read_text())["DDBStreamBatchInfo"]["batchSize"] == 3


def test_endpoint_errors_are_survived_and_told_briefly(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"k{i}") for i in range(1, 4)])
    stream.errors = [EndpointConnectionError(endpoint_url="http://127.0.0.1:1") for _ in range(5)]
    stop = NoWait()
    stream_reader = reader(stream, function, tmp_path, SETTINGS, lines, clock, stop=stop)
    done = threading.Event()

    def watch() -> None:
        for _ in range(200):
            if len(function.delivered()) == 3:
                break
            clock.now += 0.5
            threading.Event().wait(0.01)
        stop.set()
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    stream_reader.run()  # returns once stopped; never raises
    assert done.wait(5)
    assert function.delivered() == ["k1", "k2", "k3"]
    told = [line for line in lines if "cannot read the table's stream" in line]
    assert len(told) == 1  # the first error; the next four within the quiet period are counted only
    assert any("reading the table's stream again (after 5 errors)" in line for line in lines)


def test_an_expired_iterator_is_renewed_after_the_last_record_read(tmp_path: Path) -> None:
    stream, function, lines, clock = FakeStream(), Function(), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"k{i}") for i in range(1, 4)])
    stream_reader = reader(stream, function, tmp_path, SETTINGS, lines, clock)
    drain(stream_reader, clock, 5)
    stream.shards["shardId-1"]["records"] += [record(4, "k4")]
    expired = {"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}
    stream.errors = [ClientError(expired, "GetRecords")]
    drain(stream_reader, clock, 10)
    assert function.delivered() == ["k1", "k2", "k3", "k4"]


def test_a_saved_position_is_where_the_next_run_starts(tmp_path: Path) -> None:
    stream, lines, clock = FakeStream(), [], Clock()
    stream.add_shard("shardId-1", [record(i, f"k{i}") for i in range(1, 4)])
    first = Function()
    drain(reader(stream, first, tmp_path, SETTINGS, lines, clock, Positions(tmp_path / "pos.json")), clock)
    stream.shards["shardId-1"]["records"] += [record(4, "k4")]
    second = Function()
    drain(reader(stream, second, tmp_path, SETTINGS, lines, clock, Positions(tmp_path / "pos.json")), clock)
    assert first.delivered() == ["k1", "k2", "k3"]
    assert second.delivered() == ["k4"]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, MappingSettings()),
        ({"BatchSize": 7, "MaximumRetryAttempts": 0}, MappingSettings(batch_size=7, max_retries=0)),
    ],
)
def test_lambdas_defaults_fill_what_the_event_leaves_out(props: dict[str, Any], expected: MappingSettings) -> None:
    assert MappingSettings.from_event(props) == expected
