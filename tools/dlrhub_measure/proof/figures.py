"""What each suite measured, the failures it found, and the one table ``make proof`` prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dlrhub_measure import stats
from dlrhub_measure.report import pipe_table


@dataclass
class Figures:
    suite: str
    requests: int = 0
    server_errors: int = 0
    #: Message items written during the unauthenticated phase (None: not what this suite measures).
    unauthenticated_writes: int | None = None
    lost: int | None = None
    regressions: int | None = None
    #: e.g. "yes (120/120)": after faults, every re-sent report stored once.
    exactly_once: str | None = None
    seconds: float = 0.0
    times: list[float] = field(default_factory=list, repr=False)
    memory_start: dict[str, float] = field(default_factory=dict)
    memory_end: dict[str, float] = field(default_factory=dict)
    #: What broke a pass criterion (the suite fails when any).
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        self.failures.append(reason)

    @property
    def throughput(self) -> float | None:
        return self.requests / self.seconds if self.seconds > 0 and self.requests else None

    def percentile(self, p: int) -> float | None:
        """Milliseconds."""
        return stats.percentile(self.times, p) * 1000 if self.times else None

    def check(self) -> None:
        """AssertionError naming every failure (the first 20)."""
        assert not self.failures, f"{self.suite}: {len(self.failures)} failures:\n" + "\n".join(self.failures[:20])

    def memory(self) -> str:
        parts = []
        for name, start in self.memory_start.items():
            end = self.memory_end.get(name)
            parts.append(f"{name} {start:.0f}→{end:.0f}" if end is not None else f"{name} {start:.0f}→?")
        return ", ".join(parts) + " MB" if parts else "—"


def _value(value: object, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return str(value)


#: Each column and its cell of a suite's figures.
COLUMNS: tuple[tuple[str, Callable[[Figures], str]], ...] = (
    ("suite", lambda figures: figures.suite),
    ("requests", lambda figures: _value(figures.requests)),
    ("5xx", lambda figures: _value(figures.server_errors)),
    ("unauth. writes", lambda figures: _value(figures.unauthenticated_writes)),
    ("lost", lambda figures: _value(figures.lost)),
    ("regressions", lambda figures: _value(figures.regressions)),
    ("exactly once after faults", lambda figures: _value(figures.exactly_once)),
    ("req/s", lambda figures: _value(figures.throughput)),
    ("p50 ms", lambda figures: _value(figures.percentile(50))),
    ("p99 ms", lambda figures: _value(figures.percentile(99))),
    ("memory start→end (RSS)", Figures.memory),
)


def table(all_figures: list[Figures]) -> list[str]:
    """One Markdown table, a row per suite."""
    return pipe_table(
        [name for name, _ in COLUMNS], [[cell(figures) for _, cell in COLUMNS] for figures in all_figures]
    )
