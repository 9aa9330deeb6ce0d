"""Delivery reports that arrive as EventBridge events (AWS End User Messaging SMS) into the messages table."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.runtime.settings import EventsInSettings
from dlrhub.runtime.tracing import tracer
from dlrhub.services.events_in import EventService
from dlrhub.table.messages import MessageStore

logger = Logger()
metrics = Metrics()

settings = EventsInSettings.from_env()
service = EventService(
    MessageStore(settings.table_name, retention_days=settings.retention_days), settings.events_account
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer().capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One event: applied, ignored (a duplicate) or dropped as malformed; a store failure raises
    (Lambda retries the event, then parks it in the failure queue)."""
    try:
        result = service.receive(event)
    except Exception:
        logger.exception("event not stored; Lambda retries it")
        metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"Events{result.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    return result.as_dict()
