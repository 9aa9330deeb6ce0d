"""What an EventBridge event that carries a delivery report is to the hub, free of Lambda details."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class InvalidEvent(ValueError):
    """The event cannot be taken; the message says why (safe to log: no phone number in it)."""


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` matches an EventBridge pattern of exact values (lists of allowed
    values, nested objects): the part of the pattern syntax the providers' rules use."""
    if not isinstance(event, Mapping):
        return False
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, Mapping):
            if not matches(wanted, value):
                return False
        elif isinstance(wanted, list | tuple):
            values = value if isinstance(value, list) else [value]
            if not any(found in wanted for found in values if not isinstance(found, dict | list)):
                return False
        else:
            raise ValueError(f"pattern value of {key!r} must be a list or an object")
    return True
