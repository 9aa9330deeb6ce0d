"""Handling one batch of the table's stream: the counters, the provider scorecard, then status-change events.

Version 1 of the event's ``detail`` is described by docs/events/status-changed.v1.schema.json:
ids, the status and whether it is final or settled, the provider's word, times, parts, the cost the
provider reported. Never a phone number: the detail is built from named fields only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dlrhub.adapters.bus import EventPublisher
from dlrhub.domain import scorecard as card
from dlrhub.domain.stats import CounterKey, changes, outcome_of, parse_time
from dlrhub.domain.status import Status
from dlrhub.table.counters import StatsStore
from dlrhub.table.keys import is_message, message_identity, read_image
from dlrhub.table.scorecard import ScorecardStore

#: Checkpoint key suffix when the event names no shard (docs/operations.md, "Stream checkpoints").
UNSHARDED = "#unsharded"


#: Version of the status-change event's detail (docs/events/status-changed.v1.schema.json).
VERSION = "1"
#: Fields copied as they are stored (text or absent).
_TEXT_FIELDS = ("raw_status", "source", "customer_ref", "event_time", "received_at", "submitted_at", "provider_time")


def table_arn(stream_arn: str | None) -> str | None:
    """The table's ARN from its stream's (``…:table/NAME/stream/LABEL``)."""
    if not stream_arn or "/stream/" not in stream_arn:
        return None
    return stream_arn.split("/stream/", 1)[0]


def _whole(value: Any) -> int | None:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _cost(item: dict[str, Any]) -> dict[str, Any] | None:
    cost = item.get("cost")
    if not isinstance(cost, dict) or cost.get("amount") is None:
        return None
    return {"amount": str(cost["amount"]), "currency": cost.get("currency")}


def _parts(item: dict[str, Any]) -> int | None:
    """Parts as registered, else as the provider counted them for its charge."""
    registered = _whole(item.get("parts"))
    if registered is not None:
        return registered
    cost = item.get("cost")
    return _whole(cost.get("parts")) if isinstance(cost, dict) else None


def status_change(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """The event detail (less its id) for a message whose status changed; None otherwise."""
    if not is_message(new) or "status" not in new or old.get("status") == new["status"]:
        return None
    provider, account, message_id = message_identity(new["pk"])
    detail: dict[str, Any] = {
        "version": VERSION,
        "provider": provider,
        "account": account,
        "message_id": message_id,
        "status": new["status"],
        "previous_status": old.get("status"),
        "final": Status(new["status"]).is_final,
        "settled": Status(new["status"]).is_settled,
    }
    detail |= {name: new.get(name) for name in _TEXT_FIELDS}
    detail["parts"] = _parts(new)
    detail["cost"] = _cost(new)
    return detail


def checkpoint_shard(event: Mapping[str, Any]) -> str:
    """The key of a batch's exactly-once checkpoint.

    The deployed mapping has a tumbling window, so Lambda names the shard (``shardId``).
    An event without one (``sam local generate-event dynamodb update``, a hand-made test
    event) is keyed by its stream's ARN: one checkpoint per stream, right for one shard."""
    shard = event.get("shardId")
    if shard:
        return str(shard)
    records = event.get("Records") or [{}]
    return f"{records[0].get('eventSourceARN') or 'unknown-stream'}{UNSHARDED}"


#: Where a tumbling window's state keeps the scorecard changes gathered so far.
SCORECARD_STATE = "scorecard"


@dataclass(frozen=True)
class Window:
    """A call of a tumbling window: the state the window's previous call returned, and whether this
    call ends the window (Lambda then passes no records, only the state)."""

    state: Mapping[str, Any]
    final: bool


def window_of(event: Mapping[str, Any]) -> Window | None:
    """The event's tumbling window; None for an event without one (a replay, a hand-made event)."""
    if not event.get("window"):
        return None
    state = event.get("state")
    return Window(state if isinstance(state, dict) else {}, bool(event.get("isFinalInvokeForWindow")))


@dataclass
class BatchMetrics:
    """What one batch changed, for the stream function's metrics (docs/operations.md)."""

    #: (provider, source) -> status changes
    status_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: provider -> first final statuses that are a success / are not
    delivered: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    #: provider -> messages settled as SENT (the carrier took it, no receipt will come)
    sent: Counter[str] = field(default_factory=Counter)
    #: provider -> seconds from submission to the first final status (registered messages)
    seconds_to_final: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, old: dict[str, Any], new: dict[str, Any], counted: Counter[str] | None) -> None:
        """One change of an item; ``counted``: the counter increments it made (stats.changes)."""
        if counted and (counted["delivered"] or counted["failed"]):
            self._seconds(new)
        if not is_message(new) or "status" not in new or old.get("status") == new["status"]:
            return
        provider = message_identity(new["pk"])[0] or "unknown"
        self.status_changes[(provider, str(new.get("source") or "unknown"))] += 1
        now, before = outcome_of(new), outcome_of(old)
        if now != before and before in (None, "sent") and now is not None:
            {"delivered": self.delivered, "failed": self.failed, "sent": self.sent}[now][provider] += 1

    def _seconds(self, new: dict[str, Any]) -> None:
        received = new.get("received_at") or new.get("event_time")
        if received and new.get("submitted_at"):
            seconds = (parse_time(received) - parse_time(new["submitted_at"])).total_seconds()
            self.seconds_to_final[message_identity(new["pk"])[0]].append(max(0.0, seconds))


@dataclass(frozen=True)
class BatchOutcome:
    records: int
    events: int
    counters: int
    counted: bool  # False when the counts were applied by an earlier delivery of the batch
    metrics: BatchMetrics = field(default_factory=BatchMetrics)
    #: The state for the window's next call (the scorecard changes gathered and not written yet).
    state: dict[str, Any] = field(default_factory=dict)
    #: Scorecard transactions made (written, or refused as written before).
    scorecard_writes: int = 0


def _write_gathered(scorecard: ScorecardStore, shard: str, gathered: card.Gathered) -> int:
    if gathered.first is None or gathered.last is None:
        return 0
    scorecard.write(shard, gathered.first, gathered.last, gathered.rows)
    return 1


def gather_scorecard(
    scorecard: ScorecardStore,
    shard: str,
    found: list[tuple[str, dict[card.RowKey, card.Figures]]],
    window: Window | None,
) -> tuple[dict[str, Any], int]:
    """Fold the batch's scorecard changes into the window's, in record order, writing them once a
    window (when it ends; at every call without a window) or sooner when a write would exceed
    :data:`dlrhub.domain.scorecard.MAX_ROWS`. Where a run is cut depends only on the window's records,
    so a retried or bisected call writes the same runs again (refused: written before) or new ones.
    Returns the window's next state and the writes made."""
    gathered = card.Gathered.from_state((window.state if window else {}).get(SCORECARD_STATE))
    writes = 0
    for sequence, rows in found:
        if not gathered.fits(rows):
            writes += _write_gathered(scorecard, shard, gathered)
            gathered = card.Gathered()
        gathered.fold(sequence, rows)
    if window is None or window.final:
        writes += _write_gathered(scorecard, shard, gathered)
        gathered = card.Gathered()
    state = gathered.to_state()
    return ({SCORECARD_STATE: state} if state else {}), writes


def handle_batch(
    shard: str,
    records: list[dict[str, Any]],
    publisher: EventPublisher | None,
    stats: StatsStore,
    scorecard: ScorecardStore | None = None,
    window: Window | None = None,
) -> BatchOutcome:
    """The counters are applied exactly once (see StatsStore.apply_batch), the scorecard changes
    gathered for the window and written once (see :func:`gather_scorecard`), then the events
    published at least once (each carries the stream record's id to deduplicate), unless
    ``publisher`` is None (events switched off)."""
    events: list[tuple[str, dict[str, Any]]] = []
    counts: dict[CounterKey, Counter[str]] = defaultdict(Counter)
    scored: list[tuple[str, dict[card.RowKey, card.Figures]]] = []
    metrics = BatchMetrics()
    for record in records:
        images = record.get("dynamodb", {})
        old = read_image(images.get("OldImage") or {})
        new = read_image(images.get("NewImage") or {})
        detail = status_change(old, new)
        if detail is not None:
            events.append((record.get("eventID", ""), detail))
        change = changes(old, new)
        if change is not None:
            counts[change[0]].update(change[1])
        rows = card.changes(old, new) if scorecard is not None and is_message(new) else {}
        if rows:
            scored.append((images["SequenceNumber"], rows))
        metrics.add(old, new, change[1] if change else None)
    # Counted first: a batch whose counting fails (and is retried, or bisected) has published
    # nothing yet, so only a failed publish puts events out again (each with its record's id).
    counted = True
    if counts:
        sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
        counted = stats.apply_batch(shard, min(sequences, key=int), max(sequences, key=int), dict(counts))
    state: dict[str, Any] = {}
    writes = 0
    if scorecard is not None:
        state, writes = gather_scorecard(scorecard, shard, scored, window)
    if events and publisher is not None:
        arn = table_arn(records[0].get("eventSourceARN"))
        if arn:
            publisher.resources = [arn]
        publisher.publish(events)
    published = len(events) if publisher is not None else 0
    return BatchOutcome(len(records), published, len(counts), counted, metrics, state, writes)


def metric_documents(metrics: BatchMetrics, namespace: str, service: str, timestamp_ms: int) -> list[dict[str, Any]]:
    """CloudWatch embedded-metric-format documents for one batch (printed to the log).

    ``StatusChanges`` by {service, provider, source}; ``MessagesDelivered``,
    ``MessagesFailed``, ``MessagesSent`` and ``SecondsToFinal`` by {service, provider} and by {service}."""
    documents = []

    def document(dimensions: list[list[str]], values: dict[str, Any], units: dict[str, str], **dims: str) -> None:
        documents.append(
            {
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": namespace,
                            "Dimensions": dimensions,
                            "Metrics": [{"Name": name, "Unit": units[name]} for name in values],
                        }
                    ],
                },
                "service": service,
                **dims,
                **values,
            }
        )

    for (provider, source), count in sorted(metrics.status_changes.items()):
        dims = {"provider": provider, "source": source}
        document([["service", "provider", "source"]], {"StatusChanges": count}, {"StatusChanges": "Count"}, **dims)
    units = {
        "MessagesDelivered": "Count",
        "MessagesFailed": "Count",
        "MessagesSent": "Count",
        "SecondsToFinal": "Seconds",
    }
    for provider in sorted({*metrics.delivered, *metrics.failed, *metrics.sent, *metrics.seconds_to_final}):
        values: dict[str, Any] = {}
        if metrics.delivered[provider] or metrics.failed[provider]:
            values["MessagesDelivered"] = metrics.delivered[provider]
            values["MessagesFailed"] = metrics.failed[provider]
        if metrics.sent[provider]:
            values["MessagesSent"] = metrics.sent[provider]
        seconds = metrics.seconds_to_final.get(provider) or []
        if seconds:
            values["SecondsToFinal"] = [round(s, 3) for s in seconds[:100]]  # EMF: 100 values a metric
        if values:
            document([["service", "provider"], ["service"]], values, units, provider=provider)
    return documents
