"""What the page shows, read from its DOM, against what it must show for a GET /scorecard document.

Every figure the page draws or writes carries ``data-row`` (provider/account/country),
``data-field`` (the document's name), ``data-value`` (the document's value as JSON) and, for a
latency bucket or a price, ``data-bucket`` / ``data-currency``. The texts a person reads are
checked against the formatting rules written out here, independently of the page's code.
"""

from __future__ import annotations

import json
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from playwright.sync_api import Page

#: Fields each row must show in a chart (an SVG mark) as well as in text.
CHARTED = ("delivery_rate", "delivered", "failed", "unknown", "sent", "pending", "latency")
COUNTS = ("submitted", "delivered", "failed", "unknown", "sent", "pending")
PERCENTILES = ("p50_seconds", "p95_seconds", "p99_seconds")
#: What a figure without a value reads (an en dash), and the rate chart's label for a sender without a final status.
NONE = "\u2013"
NO_FINAL = "no final yet"

READ_MARKS = """() => [...document.querySelectorAll('[data-row][data-field]')].map((e) => ({
  row: e.dataset.row, field: e.dataset.field, value: e.dataset.value,
  extra: e.dataset.bucket ?? e.dataset.currency ?? '', svg: e instanceof SVGElement,
  text: (e instanceof SVGElement && !e.hasAttribute('data-label')) ? null : e.textContent,
}))"""


def count_text(value: int) -> str:
    return f"{value:,}"


def rate_text(rate: float | None) -> str:
    if rate is None:
        return NONE
    return f"{Decimal(rate * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)} %"  # as JS toFixed(1) rounds


def seconds_text(seconds: int | None) -> str:
    if seconds is None:
        return NONE
    size, unit = next(
        (s, u)
        for limit, s, u in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h"), (float("inf"), 86400, "d"))
        if seconds < limit
    )
    amount = seconds / size
    return f"≤ {int(amount) if amount.is_integer() else f'{amount:.1f}'} {unit}"


def row_key(row: dict[str, Any]) -> str:
    return f"{row['provider']}/{row['account']}/{row['country']}"


def expected_marks(doc: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    """(row, field, bucket index or currency) -> the value the page must show."""
    found: dict[tuple[str, str, str], Any] = {}
    for row in doc["rows"]:
        key = row_key(row)
        for field in (*COUNTS, "delivery_rate"):
            found[key, field, ""] = row[field]
        for field in PERCENTILES:
            found[key, field, ""] = row["latency"][field]
        for index, bucket in enumerate(row["latency"]["buckets"]):
            found[key, "latency", str(index)] = bucket["count"]
        for cost in row["cost"]:
            found[key, "cost.per_delivered", cost["currency"]] = cost["per_delivered"]
        found[key, "failures", ""] = {
            "failed_by_status": row["failed_by_status"],
            "top_failure_words": row["top_failure_words"],
        }
    return found


def expected_text(field: str, value: Any, extra: str) -> str | None:
    if field in COUNTS or field == "latency":
        return count_text(value)
    if field == "delivery_rate":
        return rate_text(value)
    if field in PERCENTILES:
        return seconds_text(value)
    if field == "cost.per_delivered":
        return f"{extra} {NONE if value is None else value}"
    if field == "failures":
        statuses = " · ".join(f"{status} {count}" for status, count in value["failed_by_status"].items() if count)
        words = " · ".join(f"\u201c{found['word']}\u201d {found['count']}" for found in value["top_failure_words"])
        return "; ".join(part for part in (statuses, words) if part) or NONE
    return None


def page_marks(page: Page) -> list[dict[str, Any]]:
    marks: list[dict[str, Any]] = page.evaluate(READ_MARKS)
    return marks


def mismatches(doc: dict[str, Any], marks: list[dict[str, Any]]) -> list[str]:
    """Every way the page's figures differ from the document's ([] when they agree)."""
    expected = expected_marks(doc)
    problems: list[str] = []
    shown: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for mark in marks:
        shown.setdefault((mark["row"], mark["field"], mark["extra"]), []).append(mark)
    for key, value in expected.items():
        found = shown.get(key, [])
        if not any(not mark["svg"] for mark in found):
            problems.append(f"{key}: not written as text")
        if key[1] in CHARTED and not any(mark["svg"] for mark in found):
            problems.append(f"{key}: not in a chart")
        for mark in found:
            if json.loads(mark["value"]) != value:
                problems.append(f"{key}: drawn with {mark['value']}, the API says {json.dumps(value)}")
            text = expected_text(key[1], value, key[2])
            said = mark["text"].strip() if mark["text"] is not None else text
            if said != text and not (key[1] == "delivery_rate" and value is None and said == NO_FINAL):
                problems.append(f"{key}: reads {said!r}, expected {text!r}")
    problems.extend(f"{key}: shown but not in the API's answer" for key in shown if key not in expected)
    return problems


def scorecard_reads(page: Page) -> int:
    """How many scorecard replies the page has drawn (its ``data-loaded``)."""
    return int(page.locator(".scorecard").get_attribute("data-loaded") or 0)


def wait_for_scorecard(page: Page, after: int = 0, timeout: float = 15.0) -> int:
    """Wait until the page has drawn a scorecard reply numbered above ``after``; that number.
    (Polled from here: the page's CSP refuses the evaluated predicate of wait_for_function.)"""
    deadline = time.monotonic() + timeout
    while (reads := scorecard_reads(page)) <= after:
        if time.monotonic() > deadline:
            raise AssertionError(f"the page drew no scorecard after read {after} within {timeout} s")
        page.wait_for_timeout(100)
    return reads
