"""What every report prints: the lines above it (what ran, when, on which machine and trees), the
progress lines on stderr, and the one table printer (a Markdown pipe table)."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dlrhub_measure.runner import Tree


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "cpu model", "processor\t: arm")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


class Clock:
    """When a command started and the machine's load then; the progress lines (stderr)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.date = datetime.now(UTC)
        self.load = load_average()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:6.1f} s"

    def progress(self, text: str) -> None:
        print(f"[{self.elapsed()}] {text}", file=sys.stderr, flush=True)


def header(
    clock: Clock, title: str, prog: str, *, python: str, short: bool, trees: Sequence[Tree] = (), sizes: str = ""
) -> list[str]:
    """The lines above a report."""
    lines = [
        f"{title}: python -m {prog} " + " ".join(sys.argv[1:]),
        f"date        {clock.date:%Y-%m-%d %H:%M} UTC, {time.monotonic() - clock.started:.0f} s",
        f"machine     {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}, load average"
        f" {clock.load:.2f} at start, {load_average():.2f} at the end (other work skews figures)",
        f"python      {python}",
    ]
    lines += [f"{tree.label + ' tree':<11} {tree.path} ({tree.revision()})" for tree in trees]
    lines.append(f"mode        {'short (CI: proves it works, figures not meaningful)' if short else 'full'}")
    return lines + ([f"sizes       {sizes}"] if sizes else [])


def pipe_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A pipe table (Markdown-compatible), each column as wide as its widest cell."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def render(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return [render(lines[0]), rule, *(render(cells) for cells in lines[1:])]
