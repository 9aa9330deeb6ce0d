"""Scheduled poll of the providers' status APIs for messages still pending."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.adapters.http import HttpClient, HttpSettings
from dlrhub.adapters.lambda_invoke import lambda_invoker
from dlrhub.adapters.secrets import AccountDirectory
from dlrhub.domain.status import Status
from dlrhub.providers.contract import POLLING
from dlrhub.providers.registry import PROVIDERS
from dlrhub.runtime.clients import client as aws_client
from dlrhub.runtime.settings import PollerSettings
from dlrhub.runtime.telemetry import count, misconfigured_counter
from dlrhub.runtime.tracing import tracer
from dlrhub.services.poller import AccountRun, Poller, PollSettings, account_of, dispatch
from dlrhub.table.leases import Coordination
from dlrhub.table.messages import MessageStore

logger = Logger()
metrics = Metrics()

settings = PollerSettings.from_env()
targets = settings.poll_accounts


accounts = AccountDirectory(
    settings.secrets_prefix,
    PROVIDERS,
    POLLING,
    max_age=settings.secrets_max_age,
    on_problem=misconfigured_counter(metrics),
)
store = MessageStore(
    settings.table_name, retention_days=settings.retention_days, max_connections=4 * settings.concurrency
)
coordination = Coordination(settings.table_name, client=store.client)
http = HttpClient(HttpSettings(read_timeout=settings.request_timeout, pool_size=2 * settings.concurrency))


poll_settings = PollSettings(
    concurrency=settings.concurrency,
    write_concurrency=2 * settings.concurrency,
    max_pending_age=timedelta(hours=settings.max_pending_hours),
    no_receipt_status=Status(settings.no_receipt_status),
    window_hold_back=timedelta(minutes=settings.window_hold_back_minutes),
    # no new request unless even its worst case (every retry timing out) ends in time
    reserve=timedelta(seconds=http.settings.worst_case_seconds + 5),
)


@logger.inject_lambda_context
@tracer().capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The schedule's event starts one invocation per account; ``{"poll_account": "provider/account"}`` polls it."""
    wanted = account_of(event)
    if wanted is None:
        # a client per scheduled run (one every few minutes): an account's own invocation never needs one
        dispatched = dispatch(targets, lambda_invoker(aws_client("lambda"), context.invoked_function_arn))
        if dispatched.failed:
            metrics.add_metric(name="PollDispatchFailures", unit=MetricUnit.Count, value=len(dispatched.failed))
        return dispatched.summary()
    chosen = [target for target in targets if f"{target[0]}/{target[1]}" == wanted]
    if not chosen:  # only the configured accounts are polled, whoever invokes the function
        logger.error("asked to poll an account that PollAccounts does not name", account=wanted[:140])
        return {"accounts": [], "refused": wanted[:140]}
    poller = Poller(
        accounts,
        store,
        coordination,
        http,
        poll_settings,
        remaining=lambda: timedelta(milliseconds=context.get_remaining_time_in_millis()),
        owner=context.aws_request_id,
    )
    runs = poller.run(chosen)
    for run in runs:
        emit_metrics(run)
    metrics.add_metric(name="PollFailures", unit=MetricUnit.Count, value=0)  # a datapoint every run, for the alarm
    return {"accounts": [run.summary() for run in runs]}


def emit_metrics(run: AccountRun) -> None:
    for name, value in (
        ("PollRequests", run.requests),
        ("PolledReportsStored", run.stored),
        ("ClosedNoReceipt", run.closed),
        ("PollFailures", run.failures),
        ("WindowAbandoned", run.abandoned),
    ):
        if value:
            count(metrics, name, run.provider, value)
    if run.refused:  # keys the provider refused (bad keys found when read are counted by `misconfigured`)
        count(metrics, "MisconfiguredAccounts", run.provider)
    if run.unfinished or run.closing_unfinished:  # a backlog: the run went as far as its time allowed
        count(metrics, "PollRunsUnfinished", run.provider)
    if run.window_lag_seconds is not None:
        metrics.add_metric(name="PollWindowLagSeconds", unit=MetricUnit.Seconds, value=run.window_lag_seconds)
