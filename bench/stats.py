"""Small summaries of timings: median, p90, min."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p90(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def minimum(values: Sequence[float]) -> float:
    return min(values) if values else float("nan")


def ratio(figure: float, reference: float) -> float:
    return figure / reference if reference else float("nan")
