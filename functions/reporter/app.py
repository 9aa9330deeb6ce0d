"""Scheduled monitor report (Infin8linx ``/sms/monitor``) for the listed accounts that take one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.adapters.http import HttpClient
from dlrhub.adapters.secrets import AccountDirectory
from dlrhub.providers.contract import Capability
from dlrhub.providers.registry import PROVIDERS
from dlrhub.runtime.settings import ReporterSettings
from dlrhub.runtime.telemetry import count, misconfigured_counter
from dlrhub.runtime.tracing import tracer
from dlrhub.services.reporter import MonitorReporter, MonitorSettings, monitored
from dlrhub.table.counters import StatsStore
from dlrhub.table.leases import Coordination

logger = Logger()
metrics = Metrics()

settings = ReporterSettings.from_env()
targets = monitored(settings.poll_accounts)
reporter_settings = MonitorSettings(
    window=timedelta(minutes=settings.window_minutes),
    lag=timedelta(minutes=settings.lag_minutes),
    catch_up=timedelta(days=settings.catch_up_days),
)


directory = AccountDirectory(
    settings.secrets_prefix,
    PROVIDERS,
    {Capability.MONITOR},
    max_age=settings.secrets_max_age,
    on_problem=misconfigured_counter(metrics),
)
stats = StatsStore(settings.table_name)
coordination = Coordination(settings.table_name, client=stats.client)
http = HttpClient()


@logger.inject_lambda_context
@tracer().capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reporter = MonitorReporter(directory, stats, coordination, http, reporter_settings, owner=context.aws_request_id)
    runs = reporter.run(targets)
    for run in runs:
        if run.sent:
            count(metrics, "MonitorWindowsSent", run.provider, len(run.sent))
        if run.failed:
            count(metrics, "MonitorFailures", run.provider)
    metrics.add_metric(name="MonitorFailures", unit=MetricUnit.Count, value=0)  # a datapoint every run, for the alarm
    return {"accounts": [run.summary() for run in runs]}
