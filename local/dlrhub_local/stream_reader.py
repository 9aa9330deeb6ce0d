"""The table's stream to the stream function, as Lambda's event source mapping does it.

What the template sets on the function's ``DynamoDB`` event is what happens here: at most
``BatchSize`` records a call, gathered for up to ``MaximumBatchingWindowInSeconds``; with
``TumblingWindowInSeconds`` each call names its shard, window and state (the state a call
returns goes to the next call of the window, which ends with a final call); a call that
raises is retried, split in halves first when ``BisectBatchOnFunctionError`` (a split counts
no retry), until ``MaximumRetryAttempts`` retries of it failed. Then the batch is parked,
never dropped silently: one JSON line in the parked-batches file (what Lambda sends to the
OnFailure destination, plus the items' keys and the error) and a printed line.

Shards are read in order, a parent before its children (DescribeStream again whenever a
shard closes, and every few seconds), each from TRIM_HORIZON or from its saved position
(``positions``: kept beside the data when the table outlives the stack). An endpoint error
never ends the reader: it backs off (up to 10 s) and says so at most once per 30 s.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dlrhub_local.console import counted, event_line, stamped
from dlrhub_local.template import Template

Record = dict[str, Any]
#: The stream function with its context bound: the event in, its result out; raises on a function error.
Invoke = Callable[[dict[str, Any]], Any]

POLL_EVERY = 0.25  # Lambda polls a shard about four times a second
REFRESH_EVERY = 10.0  # seconds between DescribeStream calls while no shard closes
MAX_BACKOFF = 10.0  # longest wait after an endpoint error
RETRY_WAITS = (0.1, 2.0)  # first and longest wait before retrying a failed batch
QUIET = 30.0  # at most one line per QUIET seconds about endpoint errors
MAX_PAGES = 100  # DescribeStream pages per refresh
MAX_ERROR = 500  # characters of an error kept in a parked batch's line


@dataclass(frozen=True)
class MappingSettings:
    """A DynamoDB event source mapping's settings, with Lambda's defaults."""

    batch_size: int = 100
    batching_window: float = 0.0
    tumbling_window: int = 0
    bisect: bool = False
    max_retries: int = -1  # -1: Lambda retries until the records expire; here until the stack stops
    starting_position: str = "TRIM_HORIZON"
    #: FilterCriteria patterns: a record reaches the function when it matches one (none: every record).
    filters: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_event(cls, props: dict[str, Any]) -> MappingSettings:
        return cls(
            batch_size=int(props.get("BatchSize", 100)),
            batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            tumbling_window=int(props.get("TumblingWindowInSeconds", 0)),
            bisect=bool(props.get("BisectBatchOnFunctionError", False)),
            max_retries=int(props.get("MaximumRetryAttempts", -1)),
            starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
            filters=tuple(
                checked_pattern(json.loads(item["Pattern"]))
                for item in props.get("FilterCriteria", {}).get("Filters", [])
            ),
        )

    def wanted(self, record: Record) -> bool:
        """Whether the record passes the filters (Lambda drops the others before any batch)."""
        return not self.filters or any(matches(pattern, record) for pattern in self.filters)

    @classmethod
    def from_template(cls, template: Template, function: str) -> MappingSettings:
        events = template.stream_events(function)
        if len(events) != 1:
            raise ValueError(f"{function}: expected one DynamoDB event in the template, found {len(events)}")
        return cls.from_event(next(iter(events.values())))

    def describe(self) -> str:
        parts = [f"batches of up to {self.batch_size}"]
        if self.batching_window:
            parts.append(f"gathered for up to {self.batching_window:g} s")
        if self.tumbling_window:
            parts.append(f"{self.tumbling_window} s tumbling windows")
        if self.filters:
            parts.append(counted(len(self.filters), "filter"))
        retries = "retried until the stack stops" if self.max_retries < 0 else f"{self.max_retries} retries"
        parts.append(f"a failed batch {'bisected, ' if self.bisect else ''}{retries}, then parked")
        return ", ".join(parts)


#: The content filters of Lambda's event filtering this reader applies; any other one is refused at start.
OPERATORS = ("prefix", "exists", "anything-but")


def checked_pattern(pattern: dict[str, Any]) -> dict[str, Any]:
    """``pattern`` if this reader applies it as Lambda does; ValueError naming what it cannot."""
    for value in pattern.values():
        if isinstance(value, dict):
            checked_pattern(value)
        elif not isinstance(value, list):
            raise ValueError(f"a filter pattern's leaves must be lists: {value!r}")
        else:
            for rule in value:
                if isinstance(rule, dict) and (len(rule) != 1 or next(iter(rule)) not in OPERATORS):
                    raise ValueError(f"filter rule not applied locally: {rule!r} (known: {', '.join(OPERATORS)})")
    return pattern


def _rule_matches(rule: Any, value: Any, present: bool) -> bool:
    if not isinstance(rule, dict):
        return present and (value == rule or (isinstance(value, list) and rule in value))
    operator, operand = next(iter(rule.items()))
    if operator == "exists":
        return present is bool(operand)
    if operator == "prefix":
        return present and isinstance(value, str) and value.startswith(operand)
    excluded = operand if isinstance(operand, list) else [operand]  # anything-but
    return present and value not in excluded


def matches(pattern: dict[str, Any], record: Any) -> bool:
    """Lambda's event filtering: every field of the pattern matches (a list: any one of its rules)."""
    return isinstance(record, dict) and all(
        matches(expected, record.get(key))
        if isinstance(expected, dict)
        else any(_rule_matches(rule, record.get(key), key in record) for rule in expected)
        for key, expected in pattern.items()
    )


@dataclass
class Shard:
    shard_id: str
    parent: str | None
    iterator: str | None = None
    read_seq: str | None = None  # the last sequence number read
    ended: bool = False  # closed, and read to its end
    buffer: list[Record] = field(default_factory=list)
    since: float = 0.0  # when the oldest buffered record was read (monotonic)
    window: float | None = None  # start (Unix s) of the tumbling window of the last call
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.ended and not self.buffer and self.window is None


class Positions:
    """The last sequence number handed to the function, per stream and shard, in a JSON file (or memory)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        try:
            self._data: dict[str, dict[str, str]] = json.loads(path.read_text()) if path and path.exists() else {}
        except ValueError:
            self._data = {}

    def get(self, stream: str, shard: str) -> str | None:
        return self._data.get(stream, {}).get(shard)

    def save(self, stream: str, shard: str, sequence: str) -> None:
        self._data.setdefault(stream, {})[shard] = sequence
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._data))
            temporary.replace(self._path)


def plain(value: Any) -> Any:
    """A stream record as Lambda sends it: times as Unix seconds, binary as base64."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(kw_only=True)
class StreamReader:
    """Reads the table's stream and calls the function; ``run()`` until ``stop`` is set."""

    streams: Any
    dynamodb: Any
    table_name: str
    settings: MappingSettings
    invoke: Invoke
    emit: Callable[[str], None]
    stop: threading.Event
    parked: Path
    positions: Positions | None = None
    observe: Callable[[list[Record]], None] | None = None
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    retry_waits: tuple[float, float] = RETRY_WAITS
    arn: str | None = field(default=None, init=False)
    shards: dict[str, Shard] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._positions = self.positions or Positions(None)
        self._refresh_at = 0.0
        self._errors = 0  # endpoint errors since reading last worked
        self._told: float | None = None  # when one was last told

    def describe(self) -> str:
        return f"{self.settings.describe()} in {self.parked}"

    # -- the loop --------------------------------------------------------------------

    def run(self) -> None:
        """Read and call until ``stop``; never raises (errors back off and are told, bounded)."""
        backoff = 0.0
        while not self.stop.is_set():
            try:
                busy = self.step()
            except Exception as error:  # the endpoint down or throttled, or a bug here: never the end of the stream
                expected = isinstance(error, ClientError | BotoCoreError | OSError)
                self._problem(error, None if expected else traceback.format_exc())
                backoff = min(MAX_BACKOFF, max(0.5, backoff * 2))
                self.stop.wait(backoff)
                continue
            backoff = 0.0
            self._recovered()
            if not busy:
                self.stop.wait(POLL_EVERY)

    def step(self) -> bool:
        """One pass over the readable shards: read, then call the function for what is due. True when
        records were read (read again at once)."""
        if self.arn is None:
            self.arn = self.dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        if self.monotonic() >= self._refresh_at:
            self.refresh()
        busy = False
        for shard in self.readable():
            if self.stop.is_set():
                break
            busy = self._read(shard) or busy
            self._flush(shard)
        return busy

    def refresh(self) -> None:
        """DescribeStream (every page): new shards join, finished ones no longer listed are forgotten."""
        assert self.arn is not None
        listed: dict[str, dict[str, Any]] = {}
        args: dict[str, Any] = {"StreamArn": self.arn}
        for _ in range(MAX_PAGES):
            description = self.streams.describe_stream(**args)["StreamDescription"]
            listed |= {shard["ShardId"]: shard for shard in description.get("Shards", [])}
            if not description.get("LastEvaluatedShardId"):
                break
            args["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]
        for shard_id, shard in listed.items():
            if shard_id not in self.shards:
                position = self._positions.get(self.arn, shard_id)
                self.shards[shard_id] = Shard(shard_id, shard.get("ParentShardId"), read_seq=position)
        for shard_id in [key for key, shard in self.shards.items() if shard.finished and key not in listed]:
            del self.shards[shard_id]
        self._refresh_at = self.monotonic() + REFRESH_EVERY

    def readable(self) -> list[Shard]:
        """Shards with work left whose parent is done (or gone): oldest first."""
        parents = [(shard, self.shards.get(shard.parent or "")) for _, shard in sorted(self.shards.items())]
        return [shard for shard, parent in parents if not shard.finished and (parent is None or parent.finished)]

    def _problem(self, error: BaseException, detail: str | None = None) -> None:
        """Count an endpoint error; tell it (with ``detail``, a traceback) unless one was told lately."""
        self._errors += 1
        now = self.monotonic()
        if self._told is None or now - self._told >= QUIET:
            so_far = f" ({self._errors} errors so far)" if self._errors > 1 else ""
            text = str(error).splitlines()[0][:200] if str(error) else ""
            self.emit(
                event_line(
                    "stream", f"cannot read the table's stream: {type(error).__name__}: {text}; retrying{so_far}"
                )
            )
            if detail:
                self.emit(stamped(detail.rstrip()))
            self._told = now

    def _recovered(self) -> None:
        if self._errors:
            self.emit(
                event_line("stream", f"reading the table's stream again (after {counted(self._errors, 'error')})")
            )
        self._errors, self._told = 0, None

    # -- reading ---------------------------------------------------------------------

    def _iterator(self, shard: Shard) -> str:
        assert self.arn is not None
        args: dict[str, Any] = {"StreamArn": self.arn, "ShardId": shard.shard_id}
        if shard.read_seq:
            args |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.read_seq}
        else:
            args["ShardIteratorType"] = self.settings.starting_position
        try:
            return self.streams.get_shard_iterator(**args)["ShardIterator"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TrimmedDataAccessException":
                raise
            self.emit(
                event_line("stream", f"records of shard {shard.shard_id} expired before they were read; going on")
            )
            args = {"StreamArn": self.arn, "ShardId": shard.shard_id, "ShardIteratorType": "TRIM_HORIZON"}
            return self.streams.get_shard_iterator(**args)["ShardIterator"]

    def _lost_iterator(self, shard: Shard, error: ClientError) -> None:
        """A shard's iterator that DynamoDB no longer takes: a new one, or the shard is gone; else raises."""
        code = error.response.get("Error", {}).get("Code")
        if code in ("ExpiredIteratorException", "TrimmedDataAccessException"):
            shard.iterator = None  # a new one, after the last record read
        elif code == "ResourceNotFoundException":
            shard.ended = True  # gone: whatever is buffered is still handed over
            self._refresh_at = 0.0
        else:
            raise error

    def _read(self, shard: Shard) -> bool:
        if shard.ended or len(shard.buffer) >= self.settings.batch_size:
            return False
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            reply = self.streams.get_records(ShardIterator=shard.iterator, Limit=self.settings.batch_size)
        except ClientError as error:
            self._lost_iterator(shard, error)
            return True
        records = reply.get("Records", [])
        shard.iterator = reply.get("NextShardIterator")
        if shard.iterator is None:
            shard.ended = True
            self._refresh_at = 0.0  # its children are listed now
        if not records:
            return False
        shard.read_seq = records[-1]["dynamodb"]["SequenceNumber"]
        if not shard.buffer:
            shard.since = self.monotonic()
        passed = [{**plain(record), "eventSourceARN": self.arn} for record in records]
        shard.buffer.extend(record for record in passed if self.settings.wanted(record))
        if not shard.buffer:  # every record filtered out: nothing to hand over, the position moves on
            self._positions.save(self.arn, shard.shard_id, shard.read_seq)
        if self.observe is not None:
            try:
                self.observe(records)
            except Exception as error:  # showing a record must never cost the function its records
                self._problem(error, traceback.format_exc())
        return True

    # -- calling the function --------------------------------------------------------

    def _window_of(self, record: Record) -> float | None:
        size = self.settings.tumbling_window
        if not size:
            return None
        created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
        moment = float(created) if isinstance(created, int | float) else self.clock()
        return moment - moment % size

    def _flush(self, shard: Shard) -> None:
        """Call the function for every batch that is due: full, past the batching window, the end of
        a tumbling window, or the shard's end. Then close a tumbling window that is over."""
        size = self.settings.batch_size
        while shard.buffer and not self.stop.is_set():
            window = self._window_of(shard.buffer[0])
            if shard.window is not None and window != shard.window and not self._close_window(shard):
                return
            count = 0
            while count < min(size, len(shard.buffer)) and self._window_of(shard.buffer[count]) == window:
                count += 1
            full = count == size or count < len(shard.buffer)
            due = shard.ended or self.monotonic() - shard.since >= self.settings.batching_window
            if not (full or due):
                return
            if not self._deliver(shard, shard.buffer[:count], window):
                return  # stopping: the batch stays unhandled, its position unsaved
            del shard.buffer[:count]
            shard.since = self.monotonic()
        if shard.window is not None and not shard.buffer:
            over = self.clock() >= shard.window + self.settings.tumbling_window
            if over or shard.ended:
                self._close_window(shard)

    def _close_window(self, shard: Shard) -> bool:
        """The window's final call (no records, its state); then a new window starts with an empty state."""
        assert shard.window is not None
        if not self._deliver(shard, [], shard.window, final=True):
            return False
        shard.window = None
        shard.state = {}
        return True

    def _deliver(self, shard: Shard, records: list[Record], window: float | None, *, final: bool = False) -> bool:
        """Call until every part of the batch is handled (done or parked); False when stopped first."""
        pending: deque[tuple[list[Record], int]] = deque([(records, 0)])
        failures = 0
        while pending:
            batch, retries = pending[0]
            error = self._call(shard, batch, window, final)
            if error is None:
                pending.popleft()
                self._handed_over(shard, batch)
                continue
            failures += 1
            if failures == 1:
                self.emit(
                    stamped(f"StreamFunction failed on {self._range(batch)} of shard {shard.shard_id}:\n{error[1]}")
                )
            if self.settings.bisect and len(batch) > 1:
                half = len(batch) // 2
                pending.popleft()
                pending.extendleft([(batch[half:], retries), (batch[:half], retries)])
            elif 0 <= self.settings.max_retries <= retries:
                pending.popleft()
                self._park(shard, batch, error[0], retries + 1)
                self._handed_over(shard, batch)
                continue
            else:
                pending[0] = (batch, retries + 1)
            first, longest = self.retry_waits
            if self.stop.wait(min(longest, first * 2 ** min(failures - 1, 10))):
                return False
        return True

    def _call(self, shard: Shard, records: list[Record], window: float | None, final: bool) -> tuple[str, str] | None:
        """One invocation; None when it succeeded, else (error, traceback)."""
        event: dict[str, Any] = {
            "Records": copy.deepcopy(records),
            "shardId": shard.shard_id,
            "eventSourceARN": self.arn,
        }
        if window is not None:
            end = window + self.settings.tumbling_window
            event |= {
                "window": {"start": iso(window), "end": iso(end)},
                "state": copy.deepcopy(shard.state),
                "isFinalInvokeForWindow": final,
                "isWindowTerminatedEarly": final and shard.ended and self.clock() < end,
            }
        try:
            result = self.invoke(event)
        except Exception as error:
            return f"{type(error).__name__}: {error}"[:MAX_ERROR], traceback.format_exc()
        if window is not None:
            state = result.get("state") if isinstance(result, dict) else None
            shard.state = state if isinstance(state, dict) else {}
            shard.window = window
        return None

    def _handed_over(self, shard: Shard, batch: list[Record]) -> None:
        if batch and self.arn is not None:
            self._positions.save(self.arn, shard.shard_id, batch[-1]["dynamodb"]["SequenceNumber"])

    @staticmethod
    def _range(batch: list[Record]) -> str:
        if not batch:
            return "the final call of a window"
        first, last = batch[0]["dynamodb"]["SequenceNumber"], batch[-1]["dynamodb"]["SequenceNumber"]
        return f"{counted(len(batch), 'record')} ({first}..{last})"

    def _park(self, shard: Shard, batch: list[Record], error: str, attempts: int) -> None:
        """One JSON line: what Lambda sends the OnFailure destination, plus the items' keys and the error."""
        times = [record["dynamodb"].get("ApproximateCreationDateTime") for record in batch]
        line = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:StreamFunction",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"] if batch else None,
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"] if batch else None,
                "approximateArrivalOfFirstRecord": iso(times[0]) if times and times[0] else None,
                "approximateArrivalOfLastRecord": iso(times[-1]) if times and times[-1] else None,
                "batchSize": len(batch),
                "streamArn": self.arn,
            },
            "keys": [record["dynamodb"].get("Keys") for record in batch],
            "error": error,
        }
        self.parked.parent.mkdir(parents=True, exist_ok=True)
        with self.parked.open("a") as out:
            out.write(json.dumps(line) + "\n")
        where = f"{self._range(batch)} of shard {shard.shard_id}"
        self.emit(event_line("stream", f"PARKED {where} after {attempts} failed calls: see {self.parked}"))
