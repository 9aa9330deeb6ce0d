"""A month's AWS bill at the volume users run, line by line, from measured figures.

The volume is :mod:`dlrhub_measure.scale.traffic`'s day (10 M messages, about 3 reports each, the day's
curve and its peak) for :data:`prices.MONTH_DAYS` days. What a line costs per unit comes from
:mod:`dlrhub_measure.prices`; how many units comes from the measured figures in :class:`Measured` (the
scale benchmark's replay on DynamoDB Local, the webhook's warm path) and the template (memory,
batch size, retention, tracing, alarms). Where a figure is an assumption, its line says so.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrhub_local.template import Template
from dlrhub_measure import prices
from dlrhub_measure.aws import tree_template
from dlrhub_measure.functions import memory_mb, stream_mapping
from dlrhub_measure.scale import traffic

MILLION = 1_000_000
#: A status-change event a message: its registration (PENDING) and its final status.
EVENTS_PER_MESSAGE = 2
#: Customer API: messages per registration request (up to 500 allowed) and its duration. Assumed:
#: the benchmark does not time the registrar on AWS.
REGISTRATIONS_PER_REQUEST = 100
REGISTRAR_MS = 150.0
#: Containers the webhook keeps warm per concurrent request (Lambda keeps idle ones for minutes).
WARM_CONTAINERS_PER_CONCURRENT = 2.0
#: Stream shards at the peak: one per table partition (10 GB or 1,000 write units a second each).
PARTITION_GB = 10
PARTITION_WRITES = 1000


@dataclass(frozen=True)
class Measured:
    """What the bill is computed from; every field is a measured figure of one tree."""

    webhook_ms: float  # median warm handler time of one report
    webhook_log_bytes: float  # the handler's log bytes of one report
    units: dict[str, float]  # write units (table + indexes) per registration / pending / final report
    stream_ms_per_batch: float  # median stream function invocation
    stream_units_per_record: float  # counter transactions and checkpoints, per stream record
    stream_log_bytes_per_batch: float
    item_bytes: float  # a settled message item as stored (size + 100 B)
    index_bytes: float  # its index entries, per message
    poll_seconds: dict[str, float]  # mean seconds of one account's scheduled run, per way of polling
    #: write units a day of the poller's applied reports (Huawei's window re-reads what it holds back)
    poll_units_per_day: float = 0.0


def stream_and_storage(stream: dict[str, Any], sizes: dict[str, float]) -> dict[str, float]:
    """:class:`Measured`'s stream and storage figures from a run of the stream function
    (``checks._stream``) and the stored sizes (``checks.stored_sizes``)."""
    return {
        "stream_ms_per_batch": (stream["batch_seconds_median"] or 0.0) * 1000,
        "stream_units_per_record": sum(stream["units"].values()) / max(stream["records"], 1),
        "stream_log_bytes_per_batch": stream.get("log_bytes_per_batch", 0.0),
        "item_bytes": sizes["item"],
        "index_bytes": sum(value for name, value in sizes.items() if name != "item"),
    }


@dataclass(frozen=True)
class Line:
    name: str
    basis: str
    usd: float  # a month


#: Sample values for the access-log format's $context variables.
ACCESS_LOG_VALUES = {
    "requestId": "JLpvxhKfoAMEJ9A=",
    "routeKey": "GET /webhooks/{provider}/{account}/{secret}",
    "status": "200",
    "responseLatency": "18",
    "integrationErrorMessage": "-",
    "identity.sourceIp": "203.0.113.10",
}


def runtime_lines(duration_ms: float, memory: int) -> str:
    """The Lambda runtime's own lines of one invocation (text format), with typical values."""
    request = str(uuid.UUID(int=0x8F5C0D1E2A3B4C5D6E7F8091A2B3C4D5))
    billed = math.ceil(duration_ms)
    return (
        f"START RequestId: {request} Version: $LATEST\n"
        f"END RequestId: {request}\n"
        f"REPORT RequestId: {request}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: 98 MB\t\n"
    )


def access_log_line(tree: Path) -> str:
    settings = tree_template(tree).resources["HttpApi"]["Properties"].get("AccessLogSettings") or {}
    text = str(settings.get("Format") or "")
    return re.sub(r"\$context\.([A-Za-z.]+)", lambda m: ACCESS_LOG_VALUES.get(m.group(1), "-"), text) + "\n"


def _requests_per_day() -> dict[str, float]:
    """Provider callback requests a day (a Webcom array carries several reports; Huawei is polled)."""
    reports = traffic.MESSAGES_PER_DAY * traffic.REPORTS_PER_MESSAGE
    found = {}
    for provider, share in traffic.PROVIDER_SHARES.items():
        way, per_request = traffic.DELIVERY[provider]
        if way == "webhook":
            found[provider] = reports * share / per_request
    return found


def stream_invocations_per_day(batch_size: int, window_seconds: float, shards: int, tumbling: bool) -> float:
    """Invocations over the day's curve: each shard takes a batch when it is full or the window ends
    (records a second spread over the shards), plus one end-of-window call a shard a minute."""
    writes_per_report = 1 + 1 / traffic.REPORTS_PER_MESSAGE  # a report, and a registration a message
    found = 0.0
    for reports in traffic.day_curve():
        per_shard = reports * writes_per_report / shards * window_seconds
        found += shards * max(1.0, math.ceil(per_shard / batch_size)) / window_seconds if per_shard else 0.0
    if tumbling:
        found += shards * 24 * 60
    return found


def table_gb(measured: Measured, retention_days: int) -> float:
    return traffic.MESSAGES_PER_DAY * retention_days * (measured.item_bytes + measured.index_bytes) / prices.GB


def shards_needed(measured: Measured, retention_days: int, peak_writes: float) -> int:
    """A stream shard per table partition: by the table's own bytes (indexes have partitions of their own)."""
    table_bytes = traffic.MESSAGES_PER_DAY * retention_days * measured.item_bytes
    by_size = math.ceil(table_bytes / 1e9 / PARTITION_GB)
    return max(1, by_size, math.ceil(peak_writes / PARTITION_WRITES))


def monthly(tree: Path, measured: Measured, *, accounts: int = traffic.ACCOUNTS) -> list[Line]:
    """The month's lines for ``tree`` (its template's settings) at 10 M messages a day."""
    template = tree_template(tree)
    days = prices.MONTH_DAYS
    messages = traffic.MESSAGES_PER_DAY * days
    reports = messages * traffic.REPORTS_PER_MESSAGE
    callbacks = sum(_requests_per_day().values()) * days
    registrations = messages / REGISTRATIONS_PER_REQUEST
    memory = memory_mb(template, "WebhookFunction")
    stream_memory = memory_mb(template, "StreamFunction")
    poller_memory = memory_mb(template, "PollerFunction")
    defaults = template.parameter_defaults()
    retention = int(defaults.get("RetentionDays") or 90)
    stream_event = stream_mapping(template)
    batch = int(stream_event.get("BatchSize", 100))
    window = float(stream_event.get("MaximumBatchingWindowInSeconds", 0) or 1)
    peak_writes = traffic.PEAK_REPORTS_PER_SECOND * (1 + 1 / traffic.REPORTS_PER_MESSAGE)
    peak_writes += traffic.CAMPAIGN_PER_SECOND
    shards = shards_needed(measured, retention, peak_writes)
    invocations = stream_invocations_per_day(batch, window, shards, "TumblingWindowInSeconds" in stream_event) * days
    records = (messages + reports) * 1.0
    polled = _polled_accounts(accounts)
    schedule_runs = days * 24 * 12  # every 5 minutes
    poll_invocations = schedule_runs * (1 + sum(polled.values()))
    poll_gb_s = sum(schedule_runs * n * measured.poll_seconds.get(way, 0.0) for way, n in polled.items())
    poll_gb_s *= poller_memory / 1024

    def gb_seconds(count: float, ms: float, mb: int) -> float:
        return count * math.ceil(ms) / 1000 * mb / 1024

    webhook_gb_s = gb_seconds(callbacks, measured.webhook_ms, memory)
    stream_gb_s = gb_seconds(invocations, measured.stream_ms_per_batch, stream_memory)
    registrar_gb_s = gb_seconds(registrations, REGISTRAR_MS, 256)
    units = measured.units
    report_units = reports * (
        units.get("final report", 0) / traffic.REPORTS_PER_MESSAGE
        + units.get("pending report", 0) * (1 - 1 / traffic.REPORTS_PER_MESSAGE)
    )
    registration_units = messages * units.get("registration", 0)
    stream_units = records * measured.stream_units_per_record
    runtime = len(runtime_lines(measured.webhook_ms, memory).encode())
    access = len(access_log_line(tree).encode())
    log_bytes = callbacks * (measured.webhook_log_bytes + runtime + access)
    log_bytes += invocations * (measured.stream_log_bytes_per_batch + runtime)
    log_bytes += (registrations + poll_invocations) * runtime
    tracing = str(defaults.get("Tracing", "Active")) == "Active"
    traced = (callbacks + registrations + invocations) * prices.XRAY_DEFAULT_RATE if tracing else 0.0
    gb = table_gb(measured, retention)
    pitr = _pitr(template)
    concurrency = _mean_concurrency(measured.webhook_ms)
    max_age = int(defaults.get("SecretsMaxAge") or 300)
    secret_calls = concurrency * WARM_CONTAINERS_PER_CONCURRENT * min(accounts, 50) * 86_400 / max(max_age, 1) * days
    secret_calls += poll_invocations  # each account's run reads its secret (cached for the warm ones)
    alarm_metrics = _alarm_metrics(template)
    lam = prices.LAMBDA_ARM_GB_SECOND.usd
    return [
        Line(
            "HTTP API requests",
            f"{callbacks / days / 1e6:.1f} M callbacks/day + registrations",
            (callbacks + registrations) * prices.HTTP_API_REQUEST.usd,
        ),
        Line(
            "Lambda requests",
            f"webhook, registrar, stream {invocations / days / 1e6:.2f} M/day ({shards} shards), poller",
            (callbacks + registrations + invocations + poll_invocations) * prices.LAMBDA_REQUEST.usd,
        ),
        Line("Lambda webhook", f"{math.ceil(measured.webhook_ms)} ms x {memory} MB a callback", webhook_gb_s * lam),
        Line(
            "Lambda stream function",
            f"{math.ceil(measured.stream_ms_per_batch)} ms x {stream_memory} MB a batch (<= {batch} records)",
            stream_gb_s * lam,
        ),
        Line(
            "Lambda poller",
            f"{sum(polled.values())} accounts every 5 min, a run {_seconds(measured.poll_seconds)}",
            poll_gb_s * lam,
        ),
        Line(
            "Lambda registrar",
            f"assumed {REGISTRAR_MS:.0f} ms a request of {REGISTRATIONS_PER_REQUEST}",
            registrar_gb_s * lam,
        ),
        Line(
            "DynamoDB report writes",
            f"{units.get('pending report', 0):.2f} WRU pending, {units.get('final report', 0):.2f} final",
            report_units * prices.DYNAMODB_WRITE_UNIT.usd,
        ),
        Line(
            "DynamoDB registrations",
            f"{units.get('registration', 0):.2f} WRU a message",
            registration_units * prices.DYNAMODB_WRITE_UNIT.usd,
        ),
        Line(
            "DynamoDB counters+checkpoints",
            f"{measured.stream_units_per_record:.3f} WRU a stream record (transactions)",
            stream_units * prices.DYNAMODB_WRITE_UNIT.usd,
        ),
        Line(
            "DynamoDB poller writes",
            f"{measured.poll_units_per_day / 1e6:.1f} M WRU/day (Huawei's window, re-read while held back)",
            measured.poll_units_per_day * days * prices.DYNAMODB_WRITE_UNIT.usd,
        ),
        Line("DynamoDB Streams reads", "read by Lambda: free", 0.0),
        Line(
            "DynamoDB storage",
            f"{gb:,.0f} GB ({retention} days, {measured.item_bytes + measured.index_bytes:,.0f} B a message)",
            gb * prices.DYNAMODB_STORAGE_GB_MONTH.usd,
        ),
        Line("DynamoDB PITR", "on" if pitr else "off", gb * prices.DYNAMODB_PITR_GB_MONTH.usd if pitr else 0.0),
        Line(
            "EventBridge PutEvents",
            f"{EVENTS_PER_MESSAGE} events a message",
            messages * EVENTS_PER_MESSAGE * prices.EVENTBRIDGE_EVENT.usd,
        ),
        Line(
            "CloudWatch Logs",
            f"{log_bytes / days / prices.GB:,.1f} GB/day (handlers, runtime lines, access log)",
            log_bytes / prices.GB * prices.LOGS_INGESTED_GB.usd,
        ),
        Line(
            "X-Ray traces",
            f"{prices.XRAY_DEFAULT_RATE:.0%} of invocations" if tracing else "off",
            traced * prices.XRAY_TRACE.usd,
        ),
        Line(
            "Secrets Manager",
            f"{accounts} secrets; GetSecretValue every {max_age} s a warm container and account",
            accounts * prices.SECRETS_MANAGER_SECRET_MONTH.usd + secret_calls * prices.SECRETS_MANAGER_CALL.usd,
        ),
        Line(
            "CloudWatch alarms",
            f"{alarm_metrics} metrics in alarms",
            alarm_metrics * prices.CLOUDWATCH_ALARM_METRIC_MONTH.usd,
        ),
    ]


def _seconds(by_way: dict[str, float]) -> str:
    return ", ".join(f"{way} {seconds:.0f} s" for way, seconds in by_way.items())


def _polled_accounts(accounts: int) -> dict[str, int]:
    """Accounts the scheduled poll works for, by way: Huawei by window, Webcom by id."""
    found = {"window": 0, "by-id": 0}
    for account in traffic.accounts()[:accounts]:
        if account.provider == "huawei":
            found["window"] += 1
        elif account.provider == "webcom":
            found["by-id"] += 1
    return found


def _mean_concurrency(webhook_ms: float) -> float:
    curve = traffic.day_curve()
    per_request = sum(_requests_per_day().values()) / (traffic.MESSAGES_PER_DAY * traffic.REPORTS_PER_MESSAGE)
    return max(1.0, sum(curve) / len(curve) * per_request * webhook_ms / 1000)


def _pitr(template: Template) -> bool:
    table = template.resources.get("MessagesTable", {}).get("Properties", {})
    return bool((table.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"))


def _alarm_metrics(template: Template) -> int:
    found = 0
    for resource in template.resources.values():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        metrics = resource.get("Properties", {}).get("Metrics")
        found += sum(1 for metric in metrics if "MetricStat" in metric) if metrics else 1
    return found


def total(lines: list[Line]) -> float:
    return sum(line.usd for line in lines)
