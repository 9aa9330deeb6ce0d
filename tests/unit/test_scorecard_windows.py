"""The scorecard's windows (pure, with a store in memory): whatever Lambda retries or bisects, each
record's changes are written exactly once."""

from __future__ import annotations

import random
from collections import deque
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dlrhub.domain.scorecard import MAX_ROWS, Figures, RowKey, add
from dlrhub.services.stream import Window, gather_scorecard


class Lost(Exception):
    """The call failed after its writes (a reply lost, a later step raised)."""


class MemoryScorecard:
    """ScorecardStore's contract: a run is added once, refused when it starts at or before the position."""

    def __init__(self, chaos: random.Random, failure_rate: float) -> None:
        self.position: dict[str, int] = {}
        self.rows: dict[RowKey, Figures] = {}
        self.chaos, self.failure_rate, self.writes = chaos, failure_rate, 0

    def write(self, shard: str, first: str, last: str, rows: dict[RowKey, Figures]) -> bool:
        assert len(rows) <= MAX_ROWS
        if self.position.get(shard, -1) >= int(first):
            assert self.position[shard] >= int(last), "a run overlapping a written one: counted twice or lost"
            return False
        for key, figures in rows.items():
            add(self.rows, key, figures)
        self.position[shard] = int(last)
        self.writes += 1
        if self.chaos.random() < self.failure_rate:
            raise Lost("written, then the call failed")
        return True


def run_like_lambda(records: list[tuple[str, dict[RowKey, Figures]]], chaos: random.Random, store: Any) -> None:
    """Windows of random length, batches of random size; a failed call is retried with the window's
    state as it was, or bisected (each half after the other, the second with the first's state)."""
    cursor = 0
    while cursor < len(records):
        window = records[cursor : cursor + chaos.randint(1, 40)]
        cursor += len(window)
        state: dict[str, Any] = {}
        batches: deque[list[tuple[str, dict[RowKey, Figures]]]] = deque()
        at = 0
        while at < len(window):
            size = chaos.randint(1, 10)
            batches.append(window[at : at + size])
            at += size
        batches.append([])  # the window's final call
        for _ in range(10_000):
            if not batches:
                break
            batch = batches[0]
            try:
                returned, _ = gather_scorecard(store, "shard-1", batch, Window(state, final=not batch))
                if chaos.random() < 0.1:
                    raise Lost("a later step of the call failed")
                state = returned  # the next call gets what a call that succeeded returned
            except Lost:
                if len(batch) > 1 and chaos.random() < 0.5:
                    batches.popleft()
                    half = len(batch) // 2
                    batches.extendleft([batch[half:], batch[:half]])
                continue
            batches.popleft()


def random_changes(chaos: random.Random, count: int) -> list[dict[RowKey, Figures]]:
    """Each record's changes: one to three rows among 150 (so a window may pass 99), +-1 and a cost."""
    rows = [RowKey("infin8linx", f"a{n}", "ZZ", "2026-11-25T10:00:00Z") for n in range(150)]
    return [
        {row: {"sub": Decimal(chaos.choice((-1, 1, 2))), "c:EUR": Decimal("0.01")} for row in chaos.sample(rows, k)}
        for k in (chaos.randint(1, 3) for _ in range(count))
    ]


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 200), st.integers(0, 2**32), st.floats(0, 0.4))
def test_each_records_changes_are_written_once(count: int, seed: int, failure_rate: float) -> None:
    chaos = random.Random(seed)
    records = [(str(1000 + n), rows) for n, rows in enumerate(random_changes(chaos, count))]
    store = MemoryScorecard(chaos, failure_rate)
    run_like_lambda(records, chaos, store)
    expected: dict[RowKey, Figures] = {}
    for _, rows in records:
        for row, figures in rows.items():
            add(expected, row, figures)
    assert store.rows == expected


def test_a_busy_window_writes_before_a_write_would_pass_99_rows() -> None:
    store = MemoryScorecard(random.Random(1), 0.0)
    hour = "2026-11-25T10:00:00Z"
    records = [(str(100 + n), {RowKey("p", f"a{n}", "ZZ", hour): {"sub": Decimal(1)}}) for n in range(250)]
    state, writes = gather_scorecard(store, "s", records, Window({}, final=False))
    assert (writes, store.writes) == (2, 2)  # 99 + 99 written, 52 carried in the state
    assert len(state["scorecard"]["rows"]) == 52
    _, writes = gather_scorecard(store, "s", [], Window(state, final=True))
    assert writes == 1
    assert len(store.rows) == 250


def test_without_a_window_every_call_writes() -> None:
    store = MemoryScorecard(random.Random(1), 0.0)
    row = {RowKey("p", "a", "ZZ", "2026-11-25T10:00:00Z"): {"sub": Decimal(1)}}
    assert gather_scorecard(store, "s", [("7", row)], None) == ({}, 1)
    assert gather_scorecard(store, "s", [("7", row)], None) == ({}, 1)  # again: refused, counted once
    assert store.rows == row
