"""The table's stream: counters and the provider scorecard (exactly once), status-change events to EventBridge."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.adapters.bus import EventPublisher
from dlrhub.runtime.settings import StreamSettings, powertools
from dlrhub.runtime.tracing import tracer
from dlrhub.services.stream import (
    UNSHARDED,
    BatchMetrics,
    checkpoint_shard,
    handle_batch,
    metric_documents,
    window_of,
)
from dlrhub.table.counters import StatsStore
from dlrhub.table.scorecard import ScorecardStore

logger = Logger()
metrics = Metrics()

settings = StreamSettings.from_env()
publisher = EventPublisher(settings.event_bus_name) if settings.publish_events else None
stats = StatsStore(settings.table_name)
scorecard = ScorecardStore(settings.table_name, client=stats.client)


@logger.inject_lambda_context
@tracer().capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Deployed with a tumbling window, so the event names its shard (``shardId``) and carries the
    window's state (the scorecard changes gathered so far, written when the window ends); an event
    without one (``sam local generate-event dynamodb update``) is checkpointed per stream."""
    records = event.get("Records") or []
    window = window_of(event)
    if not records and not (window and window.final):
        return {"state": dict(window.state) if window else {}}
    shard = checkpoint_shard(event)
    if shard.endswith(UNSHARDED):
        logger.warning("the event names no shard: one checkpoint for the whole stream")
    conflicts = stats.conflicts + scorecard.conflicts
    outcome = handle_batch(shard, records, publisher, stats, scorecard, window)
    if records:
        metrics.add_metric(name="StatusEventsPublished", unit=MetricUnit.Count, value=outcome.events)
    if stats.conflicts + scorecard.conflicts > conflicts:  # transactions DynamoDB cancelled for a clash, retried
        clashes = stats.conflicts + scorecard.conflicts - conflicts
        metrics.add_metric(name="CounterConflicts", unit=MetricUnit.Count, value=clashes)
    if outcome.counted:  # a batch delivered again adds no metrics either
        emit_metrics(outcome.metrics)
    else:
        logger.info("batch counted before; counters unchanged", records=outcome.records)
    return {"state": outcome.state}


def emit_metrics(batch: BatchMetrics) -> None:
    """Per-provider metrics as embedded-metric-format log lines (one per dimension group)."""
    names = powertools()
    if not names.metrics_on:
        return
    for document in metric_documents(batch, names.metrics_namespace, names.service, int(time.time() * 1000)):
        print(json.dumps(document, separators=(",", ":")))  # EMF: CloudWatch reads metrics from stdout
