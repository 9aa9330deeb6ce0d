"""Provider delivery-report callbacks: ``/webhooks/{provider}/{account}/{secret}``.

API Gateway has already matched the route, so the handler reads the path parameters
itself (no router to load at cold start), hands the call to the core, and shapes the
reply. Nothing the caller sent is read before the provider, the method and the secret
are checked.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.adapters.secrets import AccountDirectory, AccountUnavailable
from dlrhub.domain.inputs import WebhookRequest, called_url
from dlrhub.providers.contract import Capability
from dlrhub.providers.registry import PROVIDERS
from dlrhub.runtime.settings import Settings
from dlrhub.runtime.telemetry import cause_of, misconfigured_counter, unavailable
from dlrhub.runtime.tracing import tracer
from dlrhub.services.webhook import WRITERS, WebhookRefused, WebhookService
from dlrhub.table.messages import MessageStore

logger = Logger()
metrics = Metrics()

settings = Settings.from_env()
service = WebhookService(
    AccountDirectory(
        settings.secrets_prefix,
        PROVIDERS,
        {Capability.WEBHOOK},
        max_age=settings.secrets_max_age,
        on_problem=misconfigured_counter(metrics),
    ),
    # one connection per writer of a many-report call (a pool smaller than that makes writers wait)
    MessageStore(settings.table_name, retention_days=settings.retention_days, max_connections=WRITERS),
)


def _text(status_code: int, body: str, content_type: str = "text/plain; charset=utf-8") -> dict[str, Any]:
    return {"statusCode": status_code, "headers": {"content-type": content_type}, "body": body}


def _count(name: str, value: int) -> None:
    if value:  # nothing is sent for a zero: a metric costs log bytes
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _request(event: dict[str, Any]) -> WebhookRequest:
    body: str | bytes = event.get("body") or ""
    if event.get("isBase64Encoded") and body:
        try:
            body = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            body = b"\xff"  # not base64 as API Gateway promised: unreadable, told as such once authenticated
    context = event.get("requestContext") or {}
    headers, raw_query = event.get("headers") or {}, event.get("rawQueryString") or ""
    # The URL the provider called, which a signature covers (Twilio): API Gateway's domain name, else Host.
    host = str(context.get("domainName") or headers.get("host") or "")
    url = called_url(headers.get("x-forwarded-proto"), host, event.get("rawPath") or "", raw_query)
    method = context.get("http", {}).get("method", "")
    return WebhookRequest(method, raw_query, body, headers, url)


def receive(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    params = event.get("pathParameters") or {}
    provider, account, secret = params.get("provider", ""), params.get("account", ""), params.get("secret")
    if secret is None:  # the URL without its secret: refused like a wrong one, nothing stored
        _count("Refused403", 1)
        return _text(403, "the callback URL must end with the account's secret")
    try:
        remaining = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
        outcome = service.receive(provider, account, secret, _request(event), remaining)
    except WebhookRefused as error:
        _count(f"Refused{error.status_code}", 1)
        if error.status_code == 503:  # a misconfigured account: the provider retries while it is fixed
            unavailable(metrics, "misconfigured")
        return _text(error.status_code, error.reason)
    except AccountUnavailable as error:
        logger.error("account configuration unavailable", reason=str(error))
        unavailable(metrics, "secrets")
        return _text(503, "temporarily unavailable, try again")
    except Exception as error:  # nothing was acknowledged, so the provider sends it again: say so, without details
        logger.exception("callback failed")
        unavailable(metrics, cause_of(error))
        return _text(503, "temporarily unavailable, try again")
    _count("ReportsRejected", outcome.rejected)
    _count("ReportsFailed", outcome.failed)
    reply = outcome.reply
    return _text(reply.status_code, reply.body, reply.content_type)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer().capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return receive(event, context)
