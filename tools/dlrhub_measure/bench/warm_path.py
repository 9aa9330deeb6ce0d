"""Warm webhook handler per report against one bare ``UpdateItem`` (run in a tree's runner).

The handler is loaded as the integration tests load it (``load_handler`` of the template's
``WebhookFunction``), with its template environment, the table on DynamoDB Local and the account
secrets on moto server (service-specific endpoint variables, so each client finds its own). It
is invoked with the Infin8linx callback sample, a fresh pre-registered ``msgid`` each time and
``state`` 1 or 2 in turn: the final report of a registered message. The reference is a minimal
``UpdateItem`` (one SET on a fresh key) of the same table through a client of the same config.
Blocks of each alternate, after an untimed warm-up. The bytes the handler writes to stdout and
stderr (its log lines and metrics, what CloudWatch Logs would ingest) are counted per call.
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from dlrhub_measure import aws
from dlrhub_measure.aws import create_table, fresh_keys, put_accounts
from dlrhub_measure.bench.warm_profile import profiled, summarize
from dlrhub_measure.functions import DESTINATION, load_function, register_all
from dlrhub_measure.runner import HARNESS, Channel

SAMPLE_CHARS = 3000


@dataclass
class Output:
    """Where fds 1 and 2 go while measuring: two temporary files, read by size."""

    files: tuple[Any, Any]

    def sizes(self) -> tuple[int, int]:
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = (os.fstat(file.fileno()).st_size for file in self.files)
        return out, err

    def text_between(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """What fds 1 and 2 got between two :meth:`sizes`."""
        parts = []
        for file, first, last in zip(self.files, start, end, strict=True):
            parts.append(os.pread(file.fileno(), last - first, first).decode(errors="replace"))
        return "".join(parts)


@contextmanager
def captured_output() -> Iterator[Output]:
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            yield Output((out, err))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def callback(template_event: dict[str, Any], message_id: str, state: str) -> dict[str, Any]:
    event = copy.deepcopy(template_event)
    event["rawQueryString"] = f"msgid={message_id}&das={DESTINATION}&state={state}"
    event["queryStringParameters"] = {"msgid": message_id, "das": DESTINATION, "state": state}
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return event


@dataclass
class Timings:
    """The timed calls: the handler's ms and output per report, the bare UpdateItem's ms."""

    handler_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    log_bytes: list[int] = field(default_factory=list)
    log_lines: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    log_sample: str = ""


class Calls:
    """The webhook handler on a table of pre-registered messages, and the bare ``UpdateItem`` beside it;
    each call's arguments are made before it is timed."""

    def __init__(self, tree: Path, config: dict[str, Any], total: int) -> None:
        from dlrhub.table.messages import MessageStore

        client = aws.client("dynamodb", config["dynamodb"])
        self.table = create_table(tree, client, "bench-warm")
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        put_accounts(config["moto"], prefix, config["accounts"])
        self.handler = load_function(tree, "WebhookFunction", self.table, config | {"prefix": prefix})
        # The store's client config (MessageStore's default), the endpoint from the same variables.
        self.bare = boto3.client("dynamodb", config=Config(max_pool_connections=10))
        self.keys = fresh_keys(tree, self.table, total, "BENCH")
        self.ids = [str(4_000_000_000 + n) for n in range(total)]
        now = datetime.now(UTC)
        entries = [("infin8linx", "demo", message_id, now - timedelta(minutes=10)) for message_id in self.ids]
        register_all(MessageStore(self.table, client=client), entries, 4, registered=now)
        self.event = aws.event(tree, "webhook_infin8linx_delivered.json")
        self.reports, self.updates = iter(range(total)), iter(range(total))

    def next_report(self) -> tuple[dict[str, Any], Any]:
        from dlrhub_local.gateway import LambdaContext

        n = next(self.reports)
        event = callback(self.event, self.ids[n], "1" if n % 2 == 0 else "2")
        return event, LambdaContext("WebhookFunction", event["requestContext"]["requestId"], memory_limit_in_mb=256)

    def next_update(self) -> dict[str, Any]:
        n = next(self.updates)
        return {
            "TableName": self.table,
            "Key": self.keys[n],
            "UpdateExpression": "SET #v = :v",
            "ExpressionAttributeNames": {"#v": "bench_value"},
            "ExpressionAttributeValues": {":v": {"N": str(n)}},
        }

    def report(self, output: Output, timings: Timings, *, timed: bool = True) -> None:
        """One report through the handler: its ms, output bytes and lines (when ``timed``), its failure."""
        event, context = self.next_report()
        before = output.sizes()
        started = time.perf_counter()
        reply = self.handler(event, context)
        elapsed = (time.perf_counter() - started) * 1000
        after = output.sizes()
        if reply.get("statusCode") != 200 and len(timings.failures) < 5:
            timings.failures.append(f"{reply.get('statusCode')} {str(reply.get('body'))[:200]}")
        if not timed:
            return
        text = output.text_between(before, after)
        timings.handler_ms.append(elapsed)
        timings.log_bytes.append(len(text.encode()))
        timings.log_lines.append(text.count("\n"))
        timings.log_sample = timings.log_sample or text[:SAMPLE_CHARS]

    def update(self, timings: Timings, *, timed: bool = True) -> None:
        """One bare ``UpdateItem``; its ms when ``timed``."""
        arguments = self.next_update()
        started = time.perf_counter()
        self.bare.update_item(**arguments)
        if timed:
            timings.bare_ms.append((time.perf_counter() - started) * 1000)

    def profiles(self, count: int, tree: Path) -> dict[str, Any]:
        """cProfile of ``count`` more reports and as many bare ``UpdateItem``s."""
        roots = (HARNESS, tree.resolve(), Path(sys.prefix))
        reports = [self.next_report() for _ in range(count)]
        handler = profiled([lambda e=event, c=context: self.handler(e, c) for event, context in reports])
        updates = [self.next_update() for _ in range(count)]
        bare = profiled([lambda a=arguments: self.bare.update_item(**a) for arguments in updates])
        return {"handler": summarize(handler, count, roots), "bare": summarize(bare, count, roots)}


def run(tree: Path, config: dict[str, Any], channel: Channel) -> None:
    reports, block, warm_up = config["reports"], config["block"], config["warm_up"]
    profile_reports = config.get("profile_reports", 0)
    calls = Calls(tree, config, warm_up + reports + profile_reports)
    timings = Timings()
    with captured_output() as output:
        for _ in range(warm_up):
            calls.report(output, timings, timed=False)
            calls.update(timings, timed=False)
        # Blocks of each in turn, the handler's first every other round.
        for rounds in range(10_000):
            size = min(block, reports - len(timings.handler_ms))
            if size <= 0:
                break
            for handler_first in (rounds % 2 == 0, rounds % 2 == 1):
                for _ in range(size):
                    if handler_first:
                        calls.report(output, timings)
                    else:
                        calls.update(timings)
        profiles = calls.profiles(profile_reports, tree) if profile_reports else {}
    channel.send(profile=profiles, **asdict(timings))
