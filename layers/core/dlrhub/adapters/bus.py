"""EventBridge: status-change events put on the bus (their detail is built by :mod:`dlrhub.services.stream`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dlrhub.runtime import clients as aws

SOURCE = "dlrhub"
DETAIL_TYPE = "Message status changed"
MAX_ENTRIES = 10  # PutEvents takes 10 entries a call


class EventPublisher:
    #: ARNs the events concern (the table's), so that a rule on a shared bus can match one
    #: stack's events only; set per batch from the stream's ARN (dlrhub.services.stream).
    resources: Sequence[str] = ()

    def __init__(self, bus_name: str, *, client: Any = None) -> None:
        self._client = client or aws.client("events")
        self._bus = bus_name

    @property
    def bus_name(self) -> str:
        return self._bus

    def publish(self, details: list[tuple[str, dict[str, Any]]]) -> None:
        """(id, detail) pairs; raises if any entry was refused, so the batch is retried."""
        resources = list(self.resources)
        for start in range(0, len(details), MAX_ENTRIES):
            chunk = details[start : start + MAX_ENTRIES]
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps({"id": event_id, **detail}),
                    "EventBusName": self._bus,
                    **({"Resources": resources} if resources else {}),
                }
                for event_id, detail in chunk
            ]
            reply = self._client.put_events(Entries=entries)
            if reply.get("FailedEntryCount"):
                raise RuntimeError(f"EventBridge refused {reply['FailedEntryCount']} of {len(entries)} events")
