"""Reading every page of a DynamoDB ``Query``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def query_items(client: Any, args: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item a ``Query`` finds, page after page (``args`` gets each page's start key)."""
    while True:
        reply = client.query(**args)
        yield from reply.get("Items", [])
        if "LastEvaluatedKey" not in reply:
            return
        args["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
