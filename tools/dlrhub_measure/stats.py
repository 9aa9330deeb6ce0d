"""Small summaries of timings: median, percentiles, min, ratio."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: int) -> float:
    """The ``p``-th percentile (inclusive method); the one value of a single sample."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def p90(values: Sequence[float]) -> float:
    return percentile(values, 90)


def minimum(values: Sequence[float]) -> float:
    return min(values) if values else float("nan")


def ratio(figure: float, reference: float) -> float:
    return figure / reference if reference else float("nan")
