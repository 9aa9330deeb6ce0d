"""Status-change events for the customer's systems, from the table's stream.

Version 1 of the event's ``detail`` is described by docs/events/status-changed.v1.schema.json:
ids, the status and whether it is final or settled, the provider's word, times, parts, the cost the
provider reported. Never a phone number: the detail is built from named fields only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from dlrhub import aws
from dlrhub.status import Status
from dlrhub.table import is_message, message_identity

SOURCE = "dlrhub"
DETAIL_TYPE = "Message status changed"
VERSION = "1"
MAX_ENTRIES = 10  # PutEvents takes 10 entries a call

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


class EventPublisher:
    #: ARNs the events concern (the table's), so that a rule on a shared bus can match one
    #: stack's events only; set per batch from the stream's ARN (dlrhub.stream).
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
