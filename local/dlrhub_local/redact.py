"""Keeping phone numbers out of logs and screens."""

from __future__ import annotations


def mask_phone(number: str | None) -> str:
    """``628131565746`` -> ``6281******46``: enough to tell numbers apart, not to dial."""
    if not number:
        return ""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]
