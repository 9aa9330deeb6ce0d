"""The local stand-in for the template's EventBridge schedules: the poller and the reporter every N seconds.

Each run gets the event EventBridge Scheduler sends (``events/schedule_poller.json`` is a
sample of it) and a Lambda context with the function's timeout from template.yaml, so the
handler's remaining-time rule works as deployed. The poller's scheduled run starts one invocation
per account through the local Lambda API (``lambda_service``), whose results are told as they end.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dlrhub_local.console import counted, event_line, stamped
from dlrhub_local.gateway import LambdaContext
from dlrhub_local.lambda_service import Invocation

POLLER = "PollerFunction"
#: What a poll of one account did that is worth telling: (key of its result, one, many).
NEWS = (("stored", "new status", "new statuses"), ("closed", "closed (no receipt)", "closed (no receipt)"))


def scheduled_event(schedule: str) -> dict[str, Any]:
    """What EventBridge Scheduler delivers to a Lambda target when the schedule sets no input."""
    moment = datetime.now(UTC)
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
    """A line for a poll of one account that stored, closed or failed something; None otherwise (a
    push-only account not polled, one another run holds, or requests that brought nothing new)."""
    news = [counted(run[key], one, many) for key, one, many in (*NEWS, ("failures", "failure", "")) if run.get(key)]
    if run.get("misconfigured"):
        news.append(f"misconfigured: {run['misconfigured']}")
    if not news:
        return None
    asked = [counted(run["requests"], "request")] if run.get("requests") else []
    return event_line("polled", f"{run['provider']}/{run['account']}: " + ", ".join(asked + news))


def poll_lines(result: dict[str, Any]) -> list[str]:
    """Lines for a poller result: an account's run, or the scheduled run's starts that failed."""
    lines = [line for run in result.get("accounts", []) if (line := summary_line(run))]
    refused = "could not be started (Lambda refused the invocation)"
    return lines + [event_line("polled", f"{account}: {refused}") for account in result.get("failed", [])]


def monitor_lines(result: dict[str, Any]) -> list[str]:
    """One line per monitor window the reporter sent, and one per account it could not report."""
    lines = []
    for run in result.get("accounts", []):
        account = f"{run['provider']}/{run['account']}"
        for start, end, total, success in run.get("sent", []):
            window = f"{time.strftime('%H:%M', time.gmtime(start))}-{time.strftime('%H:%M', time.gmtime(end))} UTC"
            lines.append(event_line("monitor", f"{account} {window}: total {total}, success {success} (code 0)"))
        if run.get("failed"):
            lines.append(event_line("monitor", f"{account} not sent, retried next run: {run['failed']}"))
        if run.get("misconfigured"):
            lines.append(event_line("monitor", f"{account} misconfigured: {run['misconfigured']}"))
    return lines


def run_every(
    handler: Callable[[dict, Any], dict],
    function: str,
    every: float,
    timeout_s: int,
    report: Callable[[dict[str, Any]], list[str]],
    emit: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """Invoke a scheduled ``handler`` every ``every`` seconds until ``stop`` is set (the first run
    after ``every``); ``report`` turns its result into lines to show."""
    while not stop.wait(every):
        context = LambdaContext(function, timeout_ms=timeout_s * 1000)
        try:
            result = handler(scheduled_event(f"dlrhub-local-{function}"), context)
        except Exception:
            emit(stamped(f"{function} failed:\n{traceback.format_exc()}"))
            continue
        for line in report(result):
            emit(line)


def invocation_reporter(emit: Callable[[str], None]) -> Callable[[Invocation], None]:
    """What the local Lambda API does with a finished asynchronous invocation: the poll's lines."""

    def report(invocation: Invocation) -> None:
        if invocation.error:
            emit(stamped(f"{invocation.function} failed:\n{invocation.error}"))
            return
        for line in poll_lines(invocation.result or {}):
            emit(line)

    return report
