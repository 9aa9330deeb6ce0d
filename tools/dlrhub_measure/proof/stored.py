"""The table read directly (a Scan: tests only), at the engine itself, never through a proxy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from dlrhub.table.keys import MESSAGE_SK, from_item, read_history_entry
from dlrhub.table.keys import message_identity as identity
from dlrhub_measure import aws


def client(endpoint: str) -> Any:
    return aws.client("dynamodb", endpoint, retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=16)


def message_digests(items: Iterable[dict[str, Any]]) -> dict[str, str]:
    """pk -> a digest of the whole message item: any write shows as a changed digest."""
    return {
        item["pk"]["S"]: hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
        for item in items
        if item["sk"]["S"] == MESSAGE_SK
    }


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The message items (pk) new or changed between two digests."""
    return sorted(pk for pk, digest in after.items() if before.get(pk) != digest)


def history(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [read_history_entry(entry) for entry in from_item(item).get("history", [])]


def get_messages(dynamodb: Any, table: str, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Any]:
    """(provider, account, id) -> the item (typed), read consistently; absent ones left out."""
    items = aws.message_items(dynamodb, table, keys, ConsistentRead=True)
    return {identity(item["pk"]["S"]): item for item in items}
