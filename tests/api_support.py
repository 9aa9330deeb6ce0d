"""Helpers for the customer API tests: what each events/api_*.json must do, and the local stack as a process.

Plain functions and data, no fixtures (the bench script uses the stack starter too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

#: Requests the schemathesis run sent (tests/e2e/test_api_schema.py), for the terminal summary.
SCHEMA_REQUESTS = pytest.StashKey[int]()


@dataclass(frozen=True)
class ApiExpectation:
    """What one sample event must do when sent, after its ``seed`` events were sent in order."""

    status_code: int
    seed: tuple[str, ...] = ()
    #: "provider/account/message_id" -> status the table must hold afterwards
    stored: dict[str, str] = field(default_factory=dict)
    #: "provider/account/message_id" that must NOT be in the table afterwards
    absent: tuple[str, ...] = ()
    #: top-level fields the JSON reply must have, with these values
    reply: dict[str, Any] = field(default_factory=dict)
    #: indexes named in the reply's ``errors``, in order
    rejected_indexes: tuple[int, ...] = ()
    #: message ids a listing reply lists, in order (None: not a listing)
    listed: tuple[str, ...] | None = None
    #: whether a listing reply carries a next_cursor
    more: bool = False


BATCH = "api_register_batch.json"
BAD_ITEM = "api_register_bad_item.json"

API_EVENTS: dict[str, ApiExpectation] = {
    BATCH: ApiExpectation(
        200,
        stored={
            "infin8linx/demo/36160109700": "PENDING",
            "infin8linx/demo/36160109701": "PENDING",
            "webcom/demo/82216": "PENDING",
        },
        reply={"registered": 3, "merged": 0, "already_registered": 0, "rejected": 0, "errors": []},
    ),
    BAD_ITEM: ApiExpectation(
        422,
        stored={"infin8linx/demo/36160109710": "PENDING", "innopaas/demo/627239445736452096": "PENDING"},
        absent=("infin8linx/demo/36160109711",),  # submitted_at without a zone
        reply={"registered": 2, "merged": 0, "already_registered": 0, "rejected": 1},
        rejected_indexes=(1,),
    ),
    "api_get_message.json": ApiExpectation(
        200,
        seed=(BATCH,),
        reply={
            "provider": "infin8linx",
            "account": "demo",
            "message_id": "36160109700",
            "status": "PENDING",
            "final": False,
            "destination": "628131565746",
            "submitted_at": "2026-11-25T10:00:00.000Z",
            "parts": 1,
            "customer_ref": "order-1001",
            "history": [],
        },
    ),
    "api_list_by_ref.json": ApiExpectation(200, seed=(BATCH,), listed=("36160109700", "36160109701"), more=True),
    "api_list_by_account_status.json": ApiExpectation(
        200, seed=(BATCH, BAD_ITEM), listed=("36160109700", "36160109701", "36160109710")
    ),
}


def split_key(key: str) -> tuple[str, str, str]:
    provider, account, message_id = key.split("/", 2)
    return provider, account, message_id


def registration_item(message_id: str, minute: int = 0, **changes: Any) -> dict[str, Any]:
    """One valid ``POST /messages`` item (infin8linx/demo unless changed)."""
    item: dict[str, Any] = {
        "provider": "infin8linx",
        "account": "demo",
        "message_id": message_id,
        "destination": "628131565746",
        "submitted_at": f"2026-11-25T10:{minute % 60:02d}:00Z",
    }
    item.update(changes)
    return item


def check_api_sample(
    name: str, invoke: Callable[[dict[str, Any]], dict[str, Any]], status_of: Callable[[str], str | None]
) -> None:
    """Send sample event ``name`` (after its seeds) and check the reply and the table.

    ``status_of("provider/account/message_id")``: the status stored, or None.
    """
    from tests.support import load_event

    expected = API_EVENTS[name]
    for seed in expected.seed:
        assert invoke(load_event(seed))["statusCode"] == API_EVENTS[seed].status_code, seed
    reply = invoke(load_event(name))
    assert reply["statusCode"] == expected.status_code, reply["body"]
    assert reply["headers"]["Content-Type"] == "application/json", reply
    body = json.loads(reply["body"])
    assert {key: body.get(key) for key in expected.reply} == expected.reply
    assert tuple(error["index"] for error in body.get("errors", [])) == expected.rejected_indexes
    assert all(error["reason"] for error in body.get("errors", []))
    if expected.listed is not None:
        assert tuple(item["message_id"] for item in body["items"]) == expected.listed
        assert ("next_cursor" in body and body["next_cursor"] is not None) is expected.more
    for key, status in expected.stored.items():
        assert status_of(key) == status, key
    for key in expected.absent:
        assert status_of(key) is None, key
