"""Status-change events for the customer's systems, from the table's stream."""

from __future__ import annotations

import json
from typing import Any

from dlrhub import aws
from dlrhub.table import is_message, message_identity

SOURCE = "dlrhub"
DETAIL_TYPE = "Message status changed"
MAX_ENTRIES = 10  # PutEvents takes 10 entries a call


def status_change(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """The event detail for a message whose status changed (no phone numbers in it)."""
    if not is_message(new) or "status" not in new or old.get("status") == new["status"]:
        return None
    provider, account, message_id = message_identity(new["pk"])
    return {
        "provider": provider,
        "account": account,
        "message_id": message_id,
        "status": new["status"],
        "previous_status": old.get("status"),
        "raw_status": new.get("raw_status"),
        "event_time": new.get("event_time"),
        "source": new.get("source"),
        "customer_ref": new.get("customer_ref"),
    }


class EventPublisher:
    def __init__(self, bus_name: str, *, client: Any = None) -> None:
        self._client = client or aws.client("events")
        self._bus = bus_name

    def publish(self, details: list[tuple[str, dict[str, Any]]]) -> None:
        """(id, detail) pairs; raises if any entry was refused, so the batch is retried."""
        for start in range(0, len(details), MAX_ENTRIES):
            chunk = details[start : start + MAX_ENTRIES]
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps({"id": event_id, **detail}),
                    "EventBusName": self._bus,
                }
                for event_id, detail in chunk
            ]
            reply = self._client.put_events(Entries=entries)
            if reply.get("FailedEntryCount"):
                raise RuntimeError(f"EventBridge refused {reply['FailedEntryCount']} of {len(entries)} events")
