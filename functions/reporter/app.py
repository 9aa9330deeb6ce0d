"""Scheduled Infin8linx monitor report (``/sms/monitor``) for every Infin8linx account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.accounts import AccountDirectory
from dlrhub.coordination import Coordination
from dlrhub.http import HttpClient
from dlrhub.monitor import MonitorReporter, MonitorSettings
from dlrhub.poller import parse_accounts
from dlrhub.settings import MonitorEnv
from dlrhub.stats_store import StatsStore

logger = Logger()
tracer = Tracer()
metrics = Metrics()

settings = MonitorEnv.from_env()
accounts = [account for provider, account in parse_accounts(settings.poll_accounts) if provider == "infin8linx"]
reporter_settings = MonitorSettings(
    window=timedelta(minutes=settings.window_minutes),
    lag=timedelta(minutes=settings.lag_minutes),
    catch_up=timedelta(days=settings.catch_up_days),
)
directory = AccountDirectory(settings.secrets_prefix, max_age=settings.secrets_max_age)
stats = StatsStore(settings.table_name)
coordination = Coordination(settings.table_name, client=stats.client)
http = HttpClient()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reporter = MonitorReporter(directory, stats, coordination, http, reporter_settings, owner=context.aws_request_id)
    runs = reporter.run(accounts)
    for run in runs:
        metrics.add_metric(name="MonitorWindowsSent", unit=MetricUnit.Count, value=len(run.sent))
        metrics.add_metric(name="MonitorFailures", unit=MetricUnit.Count, value=1 if run.failed else 0)
    return {"accounts": [run.__dict__ for run in runs]}
