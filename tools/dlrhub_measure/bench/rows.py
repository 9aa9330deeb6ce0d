"""The table's rows (what | figure | reference | ratio | goal) from the measured results.

Each builder takes the results of one tree and gives that tree's figure, reference and ratio; the
table puts the baseline tree's beside them. Write units and sizes have no runtime reference:
their reference is the data model's floor (the goal for that kind), named in the cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from dlrhub_measure import prices, stats
from dlrhub_measure.bench.cost import CostPerMillion
from dlrhub_measure.item_size import KB, write_units
from dlrhub_measure.report import pipe_table
from dlrhub_measure.scale.bill import Line


@dataclass(frozen=True)
class Cell:
    """One tree's figure, reference and ratio for a row."""

    figure: str
    reference: str
    ratio: str


@dataclass(frozen=True)
class Row:
    what: str
    goal: str
    after: Cell | None
    before: Cell | None = None


EMPTY = Cell("-", "-", "-")


def table(rows: list[Row], *, with_before: bool) -> list[str]:
    header = ["what", "figure", "reference", "ratio", "goal"] + ["before: figure", "before: ratio"] * with_before
    lines = []
    for row in rows:
        now, then = row.after or EMPTY, row.before or EMPTY
        lines.append(
            [row.what, now.figure, now.reference, now.ratio, row.goal, *[then.figure, then.ratio] * with_before]
        )
    return pipe_table(header, lines)


def beside(what: str, goal: str, cell: Callable[[Any], Cell], after: Any, before: Any) -> Row:
    """A row of each tree's cell made from its result (none where a tree has no result)."""
    return Row(what, goal, cell(after) if after else None, cell(before) if before else None)


def times(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


#: (row, kind measured by dlrhub_measure.bench.write_units, floor units, goal)
WRITE_KINDS = [
    ("write units, final report of a registered message", "final report, registered message", 2.0, "2.0"),
    ("write units, final report, registered with customer_ref", "final, registered with ref", 2.0, "2.0"),
    ("write units, first report of an unregistered message", "first report, unregistered message", 2.0, "2.0"),
    ("write units, PENDING refresh (new raw word, later)", "PENDING refresh", 1.0, "1"),
    ("write units, PENDING refresh, registered with customer_ref", "PENDING refresh, registered with ref", 1.0, "1"),
    ("write units, duplicate report", "duplicate report", 1.0, "1"),
    ("write units, registration", "registration", 2.0, "<= 2.0"),
    ("write units, registration with customer_ref", "registration with ref", 3.0, "<= 3.0"),
]
SEED_DUPLICATE = "write units, duplicate of the InnoPaaS seed report"
SEED_SIZE = "item size after the InnoPaaS seed example"
LIFE_SIZE = "item size after 5 changes (InnoPaaS-like life)"


def write_cells(result: dict[str, Any]) -> dict[str, Cell]:
    cells = {}
    for what, kind, floor, _ in WRITE_KINDS:
        units = result["kinds"][kind]["total"]
        mark = " (computed)" if result["kinds"][kind]["computed"] else ""
        cells[what] = Cell(f"{units:.1f}{mark}", f"floor {floor:.1f}", times(units / floor))
    seed = result["seed"]["unregistered"][0]
    life = result["life"][-1]["sizes"][0]
    cells[SEED_DUPLICATE] = Cell(f"{write_units(seed):.1f} (computed)", "floor 1.0", times(write_units(seed)))
    cells[SEED_SIZE] = Cell(f"{seed:,} B", f"{KB:,} B", times(seed / KB))
    cells[LIFE_SIZE] = Cell(f"{life:,} B", f"{KB:,} B", times(life / KB))
    return cells


def scorecard_cells(result: dict[str, Any]) -> dict[str, Cell]:
    """Scorecard write units per final report (transactions charged 2 units per KB of each item), per window size."""
    card = result.get("scorecard")
    if not card:
        return {}
    cells = {}
    for label, found in card.items():
        if isinstance(found, dict):
            per_final = found["units"] / card["finals"]
            figure = f"{per_final:.2f} ({found['units']:g} WRU in {found['writes']} writes of {found['items']} items)"
            usd = per_final * prices.DYNAMODB_WRITE_UNIT.usd * 1_000_000
            basis = f"{card['finals']:,} finals of {card['records']:,} records; ${usd:.2f} a million finals"
            cells[f"scorecard write units per final report, {label}"] = Cell(figure, basis, times(per_final))
    return cells


def write_rows(after: dict[str, Any] | None, before: dict[str, Any] | None) -> list[Row]:
    now = write_cells(after) | scorecard_cells(after) if after else {}
    then = write_cells(before) | scorecard_cells(before) if before else {}
    goals = {what: goal for what, _, _, goal in WRITE_KINDS}
    goals |= {SEED_DUPLICATE: "1", SEED_SIZE: f"<= {KB:,} B", LIFE_SIZE: f"<= {KB:,} B (every write 1 unit)"}
    card = [what for what in dict.fromkeys([*now, *then]) if what not in goals]  # in the order measured
    goals |= {what: "<= 1.0" if "busy" in what or "peak" in what else "-" for what in card}
    return [Row(what, goals[what], now.get(what), then.get(what)) for what in goals]


def cold_cell(samples: list[float], reference: list[float]) -> Cell:
    figure = f"{stats.median(samples):,.0f} ms (min {stats.minimum(samples):,.0f})"
    base = f"{stats.median(reference):,.0f} ms (min {stats.minimum(reference):,.0f})"
    medians = stats.ratio(stats.median(samples), stats.median(reference))
    mins = stats.ratio(stats.minimum(samples), stats.minimum(reference))
    return Cell(figure, f"import boto3 {base}", f"{times(medians)} (min {times(mins)})")


def cold_rows(results: dict[tuple[str, str], list[float]], after: str, before: str | None) -> list[Row]:
    reference = results[("", "import boto3")]
    functions = sorted({function for tree, function in results if tree})
    rows = []
    floor = results.get(("", "import boto3 + a DynamoDB client"))
    if floor:  # context: what no function can go under
        rows.append(Row("cold init floor: import boto3 + one DynamoDB client", "-", cold_cell(floor, reference), None))
    for function in functions:
        then = results.get((before, function)) if before else None
        cell = partial(cold_cell, reference=reference)
        rows.append(beside(f"cold init, {function}", "<= 1.5x", cell, results.get((after, function)), then))
    return rows


def warm_cell(result: dict[str, Any]) -> Cell:
    handler, bare = result["handler_ms"], result["bare_ms"]
    figure = f"{stats.median(handler):.1f} ms (p90 {stats.p90(handler):.1f})"
    reference = f"UpdateItem {stats.median(bare):.1f} ms (p90 {stats.p90(bare):.1f})"
    medians = stats.ratio(stats.median(handler), stats.median(bare))
    p90s = stats.ratio(stats.p90(handler), stats.p90(bare))
    return Cell(figure, reference, f"{times(medians)} (p90 {times(p90s)})")


def warm_rows(after: dict[str, Any] | None, before: dict[str, Any] | None) -> list[Row]:
    return [beside("warm webhook per report vs one bare UpdateItem", "<= 1.25x", warm_cell, after, before)]


def request_ideal(requests: int, concurrency: int, latency: float) -> float:
    return math.ceil(requests / concurrency) * latency


def poller_cells(result: dict[str, Any]) -> tuple[Cell, Cell]:
    settings = result["settings"]
    concurrency, latency = settings["concurrency"], settings["latency"]
    quiet = result["nothing-new"]
    ideal = request_ideal(quiet["requests"], concurrency, latency)
    first = Cell(
        f"{quiet['elapsed']:.2f} s, {quiet['requests']} requests",
        f"ideal {ideal:.2f} s (ceil(requests / {concurrency}) x {latency * 1000:.0f} ms)",
        times(quiet["elapsed"] / ideal),
    )
    final = result["all-final"]
    by_requests = request_ideal(final["requests"], concurrency, latency)
    throughput = write_rate(final)
    accounts = final["reply"].get("accounts", [])
    stored = sum(account["stored"] for account in accounts)
    unfinished = any(account.get("unfinished") for account in accounts) or stored < settings["messages"]
    # An unfinished run (out of time) is compared on what it did: its requests, its writes.
    by_writes = (stored if unfinished else settings["messages"]) / throughput
    ideal = max(by_requests, by_writes)
    figure = f"{final['elapsed']:.2f} s, {final['requests']} requests, {stored:,} stored"
    if unfinished:
        figure += f" (UNFINISHED: {stored:,} of {settings['messages']:,})"
    second = Cell(
        figure,
        f"max(request-bound {by_requests:.2f} s, write-bound {by_writes:.2f} s at {throughput:,.0f} writes/s)",
        f"{times(final['elapsed'] / ideal)} ({final['elapsed'] / by_requests:.1f}x request-bound)",
    )
    return first, second


def write_rate(final: dict[str, Any]) -> float:
    """Bare conditional writes a second: the mean of the rates measured just before and just after the case."""
    rates = [measured["per_second"] for measured in final.get("throughput") or [] if measured]
    return sum(rates) / len(rates) if rates else float("nan")


def poller_rows(after: dict[str, Any] | None, before: dict[str, Any] | None) -> list[Row]:
    some = after or before
    assert some is not None
    settings = some["settings"]
    where = (
        f"{settings['messages']:,} pending Infin8linx, {settings['latency'] * 1000:.0f} ms/request, "
        f"concurrency {settings['concurrency']}"
    )
    now = poller_cells(after) if after else (None, None)
    then = poller_cells(before) if before else (None, None)
    floor = math.ceil(settings["messages"] / 100)
    return [
        Row(f"poller, {where}, nothing new", f"{floor} requests, <= 1.25x ideal", now[0], then[0]),
        Row("poller, all become final", "<= 1.25x max(request-bound, write-bound)", now[1], then[1]),
    ]


def cost_cell(cost: CostPerMillion) -> Cell:
    return Cell(f"${cost.total:.2f}", f"floor ${cost.floor:.2f}", times(cost.ratio))


def cost_rows(after: dict[str, CostPerMillion], before: dict[str, CostPerMillion]) -> list[Row]:
    names = (("plain", "cost per million reports"), ("ref", "cost per million reports, with customer_ref"))
    return [beside(what, "<= 1.2x floor", cost_cell, after.get(label), before.get(label)) for label, what in names]


def bill_rows(after: list[Line] | None, before: list[Line] | None, report_path: float | None) -> list[Row]:
    """The whole bill per million reports, line by line (``cost.whole_bill``), then its total."""
    if not after:
        return []
    old = {line.name: line for line in before or []}
    rows = [
        Row(
            f"bill per million reports: {line.name}",
            "-",
            Cell(f"${line.usd:.3f}", line.basis, "-"),
            Cell(f"${old[line.name].usd:.3f}", "-", "-") if line.name in old else None,
        )
        for line in after
    ]
    total = sum(line.usd for line in after)
    reference = f"report path ${report_path:.2f}" if report_path else "-"
    ratio = times(total / report_path) if report_path else "-"
    rows.append(
        Row(
            "bill per million reports, every line at 10 M messages a day",
            "-",
            Cell(f"${total:.2f}", reference, ratio),
            Cell(f"${sum(line.usd for line in before):.2f}", "-", "-") if before else None,
        )
    )
    return rows
