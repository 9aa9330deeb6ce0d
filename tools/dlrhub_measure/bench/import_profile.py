"""Where a function's cold init goes: ``python -X importtime`` of its handler module, per module.

Each line of ``-X importtime`` gives a module's own time and its cumulative time (its imports
included); the handler module's own time is its body: settings, clients, stores. Several runs,
the median per module.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from dlrhub_measure.bench.cold_init import Target, import_once

LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


@dataclass(frozen=True)
class ModuleTime:
    module: str
    depth: int
    self_ms: float
    cumulative_ms: float


def parse(stderr: str) -> list[ModuleTime]:
    found = []
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match:
            own, cumulative, indent, module = match.groups()
            depth = max(0, (len(indent) - 1) // 2)
            found.append(ModuleTime(module, depth, int(own) / 1000, int(cumulative) / 1000))
    return found


def profile(python: str, target: Target, runs: int) -> list[ModuleTime]:
    """Median self and cumulative time per module over ``runs`` imports (the first run's tree order)."""
    samples = [parse(import_once(python, target, "-X", "importtime").stderr) for _ in range(max(runs, 1))]
    merged = []
    for entry in samples[0]:
        same = [m for sample in samples for m in sample if m.module == entry.module]
        merged.append(
            ModuleTime(
                entry.module,
                entry.depth,
                statistics.median(m.self_ms for m in same),
                statistics.median(m.cumulative_ms for m in same),
            )
        )
    return merged


def top_cumulative(times: list[ModuleTime], count: int = 15) -> list[ModuleTime]:
    return sorted(times, key=lambda m: m.cumulative_ms, reverse=True)[:count]


def top_self(times: list[ModuleTime], count: int = 10) -> list[ModuleTime]:
    return sorted(times, key=lambda m: m.self_ms, reverse=True)[:count]
