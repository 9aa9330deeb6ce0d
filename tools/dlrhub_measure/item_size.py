"""DynamoDB's size of an item, as its developer guide counts it ("Item sizes and formats").

Names and values count in UTF-8 bytes; a number takes about one byte per two significant digits
plus one; a list or a map takes 3 bytes plus 1 byte per element, and a map's keys count like
attribute names. A write consumes ceil(size / 1 KB) units per item written (table or index).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

KB = 1024


def number_size(text: str) -> int:
    mantissa = text.lstrip("+-").lower().split("e", 1)[0].replace(".", "")
    significant = mantissa.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Size of one attribute value in the low-level form ``{"S": "text"}``."""
    [(kind, inner)] = value.items()
    if kind not in SIZES:
        raise ValueError(f"unknown DynamoDB type {kind}")
    return SIZES[kind](inner)


#: DynamoDB type -> the size of a value of it.
SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda text: len(text.encode()),
    "N": number_size,
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "SS": lambda texts: sum(len(text.encode()) for text in texts),
    "NS": lambda numbers: sum(number_size(text) for text in numbers),
    "BS": lambda blobs: sum(len(data) for data in blobs),
    "L": lambda elements: 3 + sum(1 + value_size(element) for element in elements),
    "M": lambda names: 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in names.items()),
}


def item_size(item: dict[str, Any]) -> int:
    """Bytes of an item in the low-level form: every attribute name plus its value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Write units of writing an item of ``size`` bytes once (at least 1)."""
    return max(1, math.ceil(size / KB))
