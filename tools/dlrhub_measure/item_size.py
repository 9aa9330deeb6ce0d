"""DynamoDB's size of an item, as its developer guide counts it ("Item sizes and formats").

Names and values count in UTF-8 bytes; a number takes about one byte per two significant digits
plus one; a list or a map takes 3 bytes plus 1 byte per element, and a map's keys count like
attribute names. A write consumes ceil(size / 1 KB) units per item written (table or index).
"""

from __future__ import annotations

import math
from typing import Any

KB = 1024


def number_size(text: str) -> int:
    mantissa = text.lstrip("+-").lower().split("e", 1)[0].replace(".", "")
    significant = mantissa.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Size of one attribute value in the low-level form ``{"S": "text"}``."""
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(text.encode()) for text in inner)
    if kind == "NS":
        return sum(number_size(text) for text in inner)
    if kind == "BS":
        return sum(len(data) for data in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes of an item in the low-level form: every attribute name plus its value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Write units of writing an item of ``size`` bytes once (at least 1)."""
    return max(1, math.ceil(size / KB))
