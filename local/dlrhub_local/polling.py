"""The local stand-in for the poller's EventBridge schedule: invoke the handler every N seconds.

Each run gets the event EventBridge Scheduler sends (``events/schedule_poller.json`` is a
sample of it) and a Lambda context with the function's timeout from template.yaml, so the
handler's remaining-time rule works as deployed. The scheduled run starts one invocation per
account through the local Lambda API (``lambda_service``), whose results are printed as they end.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dlrhub_local.gateway import LambdaContext
from dlrhub_local.template import Template

POLLER = "PollerFunction"
DEFAULT_TIMEOUT = 3  # seconds: Lambda's default when the template sets none


def function_timeout(template: Template, logical_id: str = POLLER) -> int:
    """The function's Timeout (seconds) from its properties, else the template's Globals."""
    properties = template.resources[logical_id]["Properties"]
    globals_ = template.doc.get("Globals", {}).get("Function", {})
    return int(properties.get("Timeout", globals_.get("Timeout", DEFAULT_TIMEOUT)))


def scheduled_event(now: datetime | None = None, schedule: str = "dlrhub-local-poller") -> dict[str, Any]:
    """What EventBridge Scheduler delivers to a Lambda target when the schedule sets no input."""
    moment = now or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{schedule}"],
        "detail": "{}",
    }


def summary_line(run: dict[str, Any]) -> str | None:
    """One line for a poll of one account that did something worth telling; None otherwise
    (a push-only account not polled, or one another run holds, is nothing to tell)."""
    parts = []
    if run.get("requests"):
        parts.append(f"{run['requests']} request{'s' if run['requests'] != 1 else ''}")
    for key, one, many in (
        ("stored", "new status", "new statuses"),
        ("closed", "closed (no receipt)", "closed (no receipt)"),
        ("failures", "failure", "failures"),
    ):
        if run.get(key):
            parts.append(f"{run[key]} {one if run[key] == 1 else many}")
    if run.get("misconfigured"):
        parts.append(f"misconfigured: {run['misconfigured']}")
    if not parts or parts == [f"{run['requests']} request{'s' if run['requests'] != 1 else ''}"]:
        return None
    return f"polled      {run['provider']}/{run['account']}: " + ", ".join(parts)


def run_every(
    handler: Callable[[dict, Any], dict],
    function: str,
    every: float,
    timeout_s: int,
    report: Callable[[dict[str, Any]], list[str]],
    emit: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """Invoke a scheduled ``handler`` every ``every`` seconds until ``stop`` is set (the first
    run after ``every``); ``report`` turns its result into lines to show."""
    while not stop.wait(every):
        context = LambdaContext(function, str(uuid.uuid4()), timeout_ms=timeout_s * 1000, started=time.monotonic())
        try:
            result = handler(scheduled_event(schedule=f"dlrhub-local-{function}"), context)
        except Exception:
            emit(f"{time.strftime('%H:%M:%S')}  {function} failed:\n{traceback.format_exc()}")
            continue
        for line in report(result):
            emit(f"{time.strftime('%H:%M:%S')}  {line}")


def poll_lines(result: dict[str, Any]) -> list[str]:
    """Lines for a poller result: an account's run, or the scheduled run's starts that failed."""
    lines = [line for run in result.get("accounts", []) if (line := summary_line(run))]
    lines += [
        f"polled      {account}: could not be started (Lambda refused the invocation)"
        for account in result.get("failed", [])
    ]
    return lines


def invocation_reporter(emit: Callable[[str], None]) -> Callable[[Any], None]:
    """What the local Lambda API does with a finished asynchronous invocation: the poll's lines."""

    def report(invocation: Any) -> None:
        stamp = time.strftime("%H:%M:%S")
        if invocation.error:
            emit(f"{stamp}  {invocation.function} failed:\n{invocation.error}")
            return
        for line in poll_lines(invocation.result or {}):
            emit(f"{stamp}  {line}")

    return report


def monitor_lines(result: dict[str, Any]) -> list[str]:
    """One line per monitor window the reporter sent, and one per account it could not report."""
    lines = []
    for run in result.get("accounts", []):
        account = f"{run['provider']}/{run['account']}"
        for start, end, total, success in run.get("sent", []):
            window = f"{time.strftime('%H:%M', time.gmtime(start))}-{time.strftime('%H:%M', time.gmtime(end))} UTC"
            lines.append(f"monitor     {account} {window}: total {total}, success {success} (code 0)")
        if run.get("failed"):
            lines.append(f"monitor     {account} not sent, retried next run: {run['failed']}")
        if run.get("misconfigured"):
            lines.append(f"monitor     {account} misconfigured: {run['misconfigured']}")
    return lines


def poll_forever(
    handler: Callable[[dict, Any], dict],
    every: float,
    timeout_s: int,
    emit: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """Invoke the poller every ``every`` seconds until ``stop`` is set (the first run after ``every``)."""
    run_every(handler, POLLER, every, timeout_s, poll_lines, emit, stop)
