"""Handling one batch of the table's stream: status-change events, then the counters."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from dlrhub.events import EventPublisher, status_change
from dlrhub.stats import CounterKey, changes
from dlrhub.stats_store import StatsStore
from dlrhub.table import from_item


@dataclass(frozen=True)
class BatchOutcome:
    records: int
    events: int
    counters: int
    counted: bool  # False when the counts were applied by an earlier delivery of the batch


def handle_batch(
    shard: str, records: list[dict[str, Any]], publisher: EventPublisher, stats: StatsStore
) -> BatchOutcome:
    """Events are published at least once (each carries the stream record's id to
    deduplicate); the counters are applied exactly once (see StatsStore.apply_batch)."""
    events: list[tuple[str, dict[str, Any]]] = []
    counts: dict[CounterKey, Counter[str]] = defaultdict(Counter)
    for record in records:
        images = record.get("dynamodb", {})
        old = from_item(images.get("OldImage") or {})
        new = from_item(images.get("NewImage") or {})
        detail = status_change(old, new)
        if detail is not None:
            events.append((record.get("eventID", ""), detail))
        change = changes(old, new)
        if change is not None:
            counts[change[0]].update(change[1])
    if events:
        publisher.publish(events)
    counted = True
    if counts:
        sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
        counted = stats.apply_batch(shard, min(sequences, key=int), max(sequences, key=int), dict(counts))
    return BatchOutcome(len(records), len(events), len(counts), counted)
