"""Provider delivery-report callbacks: ``/webhooks/{provider}/{account}/{secret}``."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.accounts import AccountDirectory, AccountUnavailable
from dlrhub.providers import PROVIDERS
from dlrhub.providers.descriptor import Capability
from dlrhub.settings import Settings
from dlrhub.store import MessageStore
from dlrhub.telemetry import misconfigured_counter
from dlrhub.webhook import WebhookRefused, WebhookService
from dlrhub.webhook_io import WebhookRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()

settings = Settings.from_env()


service = WebhookService(
    AccountDirectory(
        settings.secrets_prefix,
        PROVIDERS,
        {Capability.WEBHOOK},
        max_age=settings.secrets_max_age,
        on_problem=misconfigured_counter(metrics),
    ),
    MessageStore(settings.table_name, retention_days=settings.retention_days),
)


def _text(status_code: int, body: str) -> Response:
    return Response(status_code=status_code, content_type="text/plain; charset=utf-8", body=body)


@app.route("/webhooks/<provider>/<account>/<secret>", method=["GET", "POST"])
def callback(provider: str, account: str, secret: str) -> Response:
    event = app.current_event
    request = WebhookRequest(
        method=event.request_context.http.method,
        raw_query=event.raw_query_string or "",
        body=event.decoded_body or "",
        headers=dict(event.headers or {}),
    )
    outcome = service.receive(provider, account, secret, request)
    metrics.add_metric(name="ReportsStored", unit=MetricUnit.Count, value=outcome.stored)
    metrics.add_metric(name="ReportsIgnored", unit=MetricUnit.Count, value=outcome.ignored)
    metrics.add_metric(name="ReportsRejected", unit=MetricUnit.Count, value=outcome.rejected)
    metrics.add_metric(name="ReportsFailed", unit=MetricUnit.Count, value=outcome.failed)
    reply = outcome.reply
    return Response(status_code=reply.status_code, content_type=reply.content_type, body=reply.body)


@app.route("/webhooks/<provider>/<account>", method=["GET", "POST"])
def no_secret(provider: str, account: str) -> Response:
    """A callback URL without its secret: refused like a wrong one, nothing stored."""
    metrics.add_metric(name="Refused403", unit=MetricUnit.Count, value=1)
    return _text(403, "the callback URL must end with the account's secret")


@app.exception_handler(WebhookRefused)
def refused(error: WebhookRefused) -> Response:
    metrics.add_metric(name=f"Refused{error.status_code}", unit=MetricUnit.Count, value=1)
    return _text(error.status_code, error.reason)


@app.exception_handler(AccountUnavailable)
def unavailable(error: AccountUnavailable) -> Response:
    logger.error("account configuration unavailable", reason=str(error))
    return _text(503, "temporarily unavailable, try again")


@app.exception_handler(Exception)
def failed(error: Exception) -> Response:
    """Nothing was acknowledged, so the provider will send it again: say so, without details."""
    logger.exception("callback failed")
    return _text(503, "temporarily unavailable, try again")


@app.not_found
def not_found(_: Exception) -> Response:
    return _text(404, "no such route")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
