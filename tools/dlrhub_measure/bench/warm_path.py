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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from dlrhub_measure import aws
from dlrhub_measure.aws import create_table, fresh_keys, put_accounts
from dlrhub_measure.bench.warm_profile import profiled, summarize
from dlrhub_measure.functions import DESTINATION, load_function, register_message
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


def run(tree: Path, config: dict[str, Any], channel: Channel) -> None:
    from dlrhub.table.messages import MessageStore
    from dlrhub_local.gateway import LambdaContext

    reports, block, warm_up = config["reports"], config["block"], config["warm_up"]
    profile_reports = config.get("profile_reports", 0)
    client = aws.client("dynamodb", config["dynamodb"])
    table = create_table(tree, client, "bench-warm")
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    put_accounts(config["moto"], prefix, config["accounts"])
    handler = load_function(tree, "WebhookFunction", table, config | {"prefix": prefix})
    # The store's client config (MessageStore's default), the endpoint from the same variables.
    bare = boto3.client("dynamodb", config=Config(max_pool_connections=10))

    total = warm_up + reports + profile_reports
    keys = fresh_keys(tree, table, total, "BENCH")
    ids = [str(4_000_000_000 + n) for n in range(total)]
    store = MessageStore(table, client=client)
    now = datetime.now(UTC)

    def register(message_id: str) -> None:
        register_message(store, "infin8linx", "demo", message_id, now - timedelta(minutes=10), registered=now)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(register, ids))
    template_event = aws.event(tree, "webhook_infin8linx_delivered.json")

    handler_ms: list[float] = []
    bare_ms: list[float] = []
    log_bytes: list[int] = []
    log_lines: list[int] = []
    failures: list[str] = []
    sample = ""
    calls = iter(range(total))
    bare_calls = iter(range(total))

    def prepared_report() -> tuple[dict[str, Any], Any]:
        n = next(calls)
        event = callback(template_event, ids[n], "1" if n % 2 == 0 else "2")
        return event, LambdaContext("WebhookFunction", event["requestContext"]["requestId"], memory_limit_in_mb=256)

    def prepared_bare() -> dict[str, Any]:
        n = next(bare_calls)
        return {
            "TableName": table,
            "Key": keys[n],
            "UpdateExpression": "SET #v = :v",
            "ExpressionAttributeNames": {"#v": "bench_value"},
            "ExpressionAttributeValues": {":v": {"N": str(n)}},
        }

    def one_report(timed: bool, output: Output) -> None:
        nonlocal sample
        event, context = prepared_report()
        before = output.sizes()
        started = time.perf_counter()
        reply = handler(event, context)
        elapsed = (time.perf_counter() - started) * 1000
        after = output.sizes()
        if reply.get("statusCode") != 200 and len(failures) < 5:
            failures.append(f"{reply.get('statusCode')} {str(reply.get('body'))[:200]}")
        if timed:
            handler_ms.append(elapsed)
            text = output.text_between(before, after)
            log_bytes.append(len(text.encode()))
            log_lines.append(text.count("\n"))
            sample = sample or text[:SAMPLE_CHARS]

    def one_bare(timed: bool) -> None:
        arguments = prepared_bare()
        started = time.perf_counter()
        bare.update_item(**arguments)
        if timed:
            bare_ms.append((time.perf_counter() - started) * 1000)

    with captured_output() as output:
        for _ in range(warm_up):
            one_report(False, output)
            one_bare(False)
        rounds = 0
        while len(handler_ms) < reports and rounds < 10_000:
            size = min(block, reports - len(handler_ms))
            order = (True, False) if rounds % 2 == 0 else (False, True)
            for is_handler in order:
                for _ in range(size):
                    if is_handler:
                        one_report(True, output)
                    else:
                        one_bare(True)
            rounds += 1
        profiles = {}
        if profile_reports:
            roots = (HARNESS, tree.resolve(), Path(sys.prefix))
            profile_calls = [prepared_report() for _ in range(profile_reports)]
            handler_stats = profiled([lambda e=event, c=context: handler(e, c) for event, context in profile_calls])
            bares = [prepared_bare() for _ in range(profile_reports)]
            bare_stats = profiled([lambda a=arguments: bare.update_item(**a) for arguments in bares])
            profiles = {
                "handler": summarize(handler_stats, profile_reports, roots),
                "bare": summarize(bare_stats, profile_reports, roots),
            }
    channel.send(
        profile=profiles,
        handler_ms=handler_ms,
        bare_ms=bare_ms,
        log_bytes=log_bytes,
        log_lines=log_lines,
        failures=failures,
        log_sample=sample,
    )
