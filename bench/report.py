"""A plain pipe table (Markdown-compatible) of the rows, and the machine facts above it."""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.rows import Cell, Row

EMPTY = Cell("-", "-", "-")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "cpu model", "processor\t: arm")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts(cold_python: str, runner_python: str) -> list[str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return [
        f"date        {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine     {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}, "
        f"load average {load[0]:.2f} at start",
        f"python      harness {platform.python_version()}; tree runners (handlers, store) {runner_python};"
        f" cold init {cold_python}",
    ]


def table(rows: list[Row], *, with_before: bool) -> list[str]:
    header = ["what", "figure", "reference", "ratio", "goal"]
    if with_before:
        header += ["before: figure", "before: ratio"]
    lines = [header]
    for row in rows:
        now = row.after or EMPTY
        cells = [row.what, now.figure, now.reference, now.ratio, row.goal]
        if with_before:
            then = row.before or EMPTY
            cells += [then.figure, then.ratio]
        lines.append(cells)
    return pipe_table(lines[0], lines[1:])


def pipe_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A pipe table (Markdown-compatible), each column as wide as its widest cell."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return [render(lines[0]), rule, *(render(cells) for cells in lines[1:])]


class Clock:
    """Elapsed seconds of each part, for the progress lines."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:6.1f} s"
