"""Cost per million reports from the measured figures, at the prices of :mod:`dlrhub_measure.prices`.

A report here is one provider callback carrying one final report of a registered message: one
HTTP API request, one Lambda invocation of the webhook function (its measured warm duration,
billed per started millisecond, at the template's memory, Arm), the measured write units of
that report kind, and the log bytes: the handler's measured stdout/stderr, the Lambda runtime's
START/END/REPORT lines, and the HTTP API's access-log line (the template's format, filled in).
EventBridge (one event per status change) and X-Ray (sampled traces) are separate lines.

:func:`whole_bill` is the rest of the bill, per million reports: every line of
:func:`dlrhub_measure.scale.bill.monthly` at 10 M messages a day (the stream function and its counter and
checkpoint writes, PutEvents, every function's logs, X-Ray, Secrets Manager, PITR, storage, …)
from the same run's figures, divided by the month's reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrhub_measure import prices, stats
from dlrhub_measure.aws import tree_template
from dlrhub_measure.functions import memory_mb
from dlrhub_measure.scale import bill, traffic
from dlrhub_measure.scale.bill import MILLION, Line, access_log_line, runtime_lines

WRU = prices.DYNAMODB_WRITE_UNIT.usd
#: Write units a final report of a registered message needs: the item (<= 1 KB) and leaving the
#: sparse pending index. The floor's assumption.
FLOOR_WRITE_UNITS = 2.0


@dataclass(frozen=True)
class CostPerMillion:
    lines: list[Line]
    separate: list[Line]
    floor: float
    floor_basis: str

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def ratio(self) -> float:
        return self.total / self.floor


def per_million(tree: Path, duration_ms: float, write_units: float, handler_log_bytes: float) -> CostPerMillion:
    memory = memory_mb(tree_template(tree), "WebhookFunction")
    billed_ms = math.ceil(duration_ms)
    gb_seconds = billed_ms / 1000 * memory / 1024
    runtime = len(runtime_lines(duration_ms, memory).encode())
    access = len(access_log_line(tree).encode())
    log_bytes = handler_log_bytes + runtime + access
    lines = [
        Line("HTTP API requests", "1 per report", MILLION * prices.HTTP_API_REQUEST.usd),
        Line("Lambda requests", "1 per report", MILLION * prices.LAMBDA_REQUEST.usd),
        Line(
            "Lambda duration",
            f"{billed_ms} ms billed (median {duration_ms:.1f} ms) x {memory} MB, Arm",
            MILLION * gb_seconds * prices.LAMBDA_ARM_GB_SECOND.usd,
        ),
        Line("DynamoDB writes", f"{write_units:g} WRU per report", MILLION * write_units * WRU),
        Line(
            "CloudWatch Logs",
            f"{log_bytes:,.0f} B per report (handler {handler_log_bytes:,.0f}, runtime {runtime}, access log {access})",
            MILLION * log_bytes / prices.GB * prices.LOGS_INGESTED_GB.usd,
        ),
    ]
    separate = [
        Line("EventBridge events", "1 per status change", MILLION * prices.EVENTBRIDGE_EVENT.usd),
        Line(
            "X-Ray traces",
            f"{prices.XRAY_DEFAULT_RATE:.0%} of requests sampled (default rule, busy function)",
            MILLION * prices.XRAY_DEFAULT_RATE * prices.XRAY_TRACE.usd,
        ),
    ]
    floor = MILLION * (
        prices.HTTP_API_REQUEST.usd + prices.LAMBDA_REQUEST.usd + FLOOR_WRITE_UNITS * prices.DYNAMODB_WRITE_UNIT.usd
    )
    basis = f"HTTP API + Lambda request + {FLOOR_WRITE_UNITS:g} WRU (the item <= 1 KB, leaving the pending index)"
    return CostPerMillion(lines, separate, floor, basis)


def registration_line(write_units: float) -> Line:
    """Registration, per message (customer API, batched: its requests and duration left out)."""
    return Line("registration writes", f"{write_units:g} WRU per message", MILLION * write_units * WRU)


def describe(cost: CostPerMillion) -> list[str]:
    rows = [f"  {line.name:<20} {line.basis:<80} ${line.usd:8.4f}" for line in cost.lines]
    rows.append(f"  {'total':<20} {'':<80} ${cost.total:8.4f}")
    rows.append(f"  {'floor':<20} {cost.floor_basis:<80} ${cost.floor:8.4f}")
    rows.append(f"  {'ratio':<20} {'total / floor':<80} {cost.ratio:8.2f}x")
    rows.append("  separate lines (each can be switched off by the user):")
    rows += [f"  {line.name:<20} {line.basis:<80} ${line.usd:8.4f}" for line in cost.separate]
    return rows


def whole_bill(tree: Path, units: dict[str, Any], warm: dict[str, Any]) -> list[Line]:
    """Every line of the month at 10 M messages a day, per million reports, from ``make bench``'s
    figures (write units and its stream run, the warm path). The poller's line is left out: its
    runs are measured by ``make bench-scale`` only."""
    kinds = units["kinds"]
    measured = bill.Measured(
        webhook_ms=stats.median(warm["handler_ms"]),
        webhook_log_bytes=stats.median(warm["log_bytes"]),
        units={
            "registration": kinds["registration"]["total"],
            "pending report": kinds["PENDING refresh"]["total"],
            "final report": kinds["final report, registered message"]["total"],
        },
        **bill.stream_and_storage(units["stream"], units["sizes"]),
        poll_seconds={},
    )
    reports = traffic.MESSAGES_PER_DAY * traffic.REPORTS_PER_MESSAGE * prices.MONTH_DAYS / MILLION
    return [
        Line(line.name, line.basis, line.usd / reports)
        for line in bill.monthly(tree, measured)
        if line.name != "Lambda poller"
    ]
