"""The table's stream: status-change events to EventBridge, delivery counters (exactly once)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.events import EventPublisher
from dlrhub.settings import StreamSettings
from dlrhub.stats_store import StatsStore
from dlrhub.stream import handle_batch
from dlrhub.tracing import tracer

logger = Logger()
metrics = Metrics()

settings = StreamSettings.from_env()
publisher = EventPublisher(settings.event_bus_name)
stats = StatsStore(settings.table_name)


@logger.inject_lambda_context
@tracer().capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Configured with a tumbling window so the event names its shard (``shardId``)."""
    records = event.get("Records") or []
    if records:
        outcome = handle_batch(event["shardId"], records, publisher, stats)
        metrics.add_metric(name="StatusEventsPublished", unit=MetricUnit.Count, value=outcome.events)
        if not outcome.counted:
            logger.info("batch counted before; counters unchanged", records=outcome.records)
    return {"state": {}}
