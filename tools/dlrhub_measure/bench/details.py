"""The report's sections under the table: where the write units, the time and the bytes go."""

from __future__ import annotations

from typing import Any

from dlrhub_measure import prices, stats
from dlrhub_measure.bench import cost
from dlrhub_measure.bench.cold_init import interpreter_version
from dlrhub_measure.bench.import_profile import ModuleTime, top_cumulative, top_self


def units_text(units: dict[str, Any]) -> str:
    parts = [f"table {units['table']:g}"] + [f"{name} {value:g}" for name, value in sorted(units["indexes"].items())]
    extra = f", {units['calls']} calls" if units["calls"] != 1 else ""
    extra += f", {units['refused']} refused (charged by item size, computed)" if units["refused"] else ""
    return f"{units['total']:g} = " + " + ".join(parts) + extra


def write_units_section(results: dict[str, Any]) -> list[str]:
    lines = ["", "## Write units per kind (DynamoDB Local, ReturnConsumedCapacity=INDEXES)"]
    for label, result in results.items():
        shown = "yes" if result["breakdown"] else "NO: totals only (ReturnConsumedCapacity=TOTAL figures)"
        lines.append(f"{label}: DynamoDB Local broke the units down per table and index: {shown}")
        lines += [f"  {kind:<40} {units_text(units)}" for kind, units in result["kinds"].items()]
        lines.append("  typical life (InnoPaaS-like: every report carries the seed example's 15 detail fields):")
        total = 0.0
        for step in result["life"]:
            total += step["units"]["total"]
            sizes = ", ".join(f"{size:,} B" for size in step["sizes"])
            lines.append(f"    {step['step']:<18} {units_text(step['units']):<60} item {sizes}")
        lines.append(f"    {'whole life':<18} {total:g} units")
        seed = result["seed"]
        lines.append(
            f"  InnoPaaS seed example through the webhook handler: item {seed['unregistered'][0]:,} B "
            f"(unregistered message), {seed['registered'][0]:,} B (registered with customer_ref first)"
        )
    return lines


def cold_init_section(times: dict[tuple[str, str], list[float]], python: str, profile: list[ModuleTime]) -> list[str]:
    lines = ["", f"## Cold init (fresh interpreter per import, {python})"]
    lines.append(f"  {'target':<34} {'n':>3} {'min ms':>8} {'median ms':>10} {'max ms':>8}")
    for (tree, label), samples in sorted(times.items()):
        name = f"{label} ({tree})" if tree else label
        lines.append(
            f"  {name:<34} {len(samples):>3} {stats.minimum(samples):>8.0f} {stats.median(samples):>10.0f}"
            f" {max(samples):>8.0f}"
        )
    if profile:
        lines += ["", "## Import profile of the webhook function (after tree; python -X importtime, median of runs)"]
        lines.append(f"  top 15 by cumulative time   {'cumulative ms':>14} {'self ms':>8}")
        for module in top_cumulative(profile):
            name = "  " * min(module.depth, 6) + module.module
            lines.append(f"  {name:<40} {module.cumulative_ms:>8.1f} {module.self_ms:>8.1f}")
        lines.append(f"  top 10 by own time (module body, imports excluded)   {'self ms':>8}")
        lines += [f"  {module.module:<60} {module.self_ms:>8.1f}" for module in top_self(profile)]
    return lines


def warm_path_section(results: dict[str, Any]) -> list[str]:
    lines = ["", "## Warm path (webhook handler, final report of a registered message, blocks alternating)"]
    for label, result in results.items():
        handler, bare = result["handler_ms"], result["bare_ms"]
        lines.append(
            f"{label}: {len(handler)} reports, handler median {stats.median(handler):.2f} ms"
            f" p90 {stats.p90(handler):.2f};"
            f" {len(bare)} bare UpdateItem median {stats.median(bare):.2f} ms p90 {stats.p90(bare):.2f}"
        )
        lines.append(
            f"  log output per report: {stats.median(result['log_bytes']):,.0f} B in"
            f" {stats.median(result['log_lines']):.0f} lines (median)"
        )
        if result["failures"]:
            lines.append(f"  NOT 200: {result['failures']}")
        sample = result["log_sample"].rstrip("\n").splitlines()
        lines += ["  one report's output:"] + [f"    {line}" for line in sample]
        lines += profile_lines(result.get("profile") or {})
    return lines


def profile_lines(profiles: dict[str, Any]) -> list[str]:
    """cProfile per report of the handler and of the bare UpdateItem (inflated by the profiler)."""
    if not profiles:
        return []
    lines = []
    for name, found in profiles.items():
        python = found["total_ms"] - found["socket_ms"]
        lines.append(
            f"  cProfile, {name} ({found['reports']} calls): {found['total_ms']:.2f} ms a call, of which"
            f" {found['socket_ms']:.2f} blocked on sockets and {python:.2f} in Python"
        )
    handler = profiles["handler"]
    lines.append(f"  handler, top {len(handler['top_cumulative'])} by cumulative ms a report (calls a report, own ms):")
    lines += [f"    {cum:7.2f} {calls:6.1f} {own:6.2f}  {name}" for name, calls, own, cum in handler["top_cumulative"]]
    lines.append(f"  handler, top {len(handler['top_own'])} by own ms a report:")
    lines += [f"    {own:7.2f} {calls:6.1f}  {name}" for name, calls, own, _ in handler["top_own"]]
    return lines


def poller_section(results: dict[str, Any]) -> list[str]:
    lines = ["", "## Poller (the PollerFunction handler, Infin8linx simulator in another process)"]
    for label, result in results.items():
        seeded = result["seeded"]
        lines.append(
            f"{label}: seeded {result['settings']['messages']:,} registrations in {seeded['seed_seconds']:.1f} s"
        )
        for case in ("nothing-new", "all-final"):
            outcome = result[case]
            lines.append(
                f"  {case:<12} {outcome['elapsed']:.2f} s, {outcome['requests']} requests; reply {outcome['reply']}"
            )
        for when, measured in zip(("before", "after"), result["all-final"].get("throughput") or [], strict=False):
            lines.append(
                f"  bare conditional UpdateItem {when} all-final: {measured['writes']:,} at"
                f" {result['settings']['write_concurrency']} threads in {measured['seconds']:.2f} s"
                f" = {measured['per_second']:,.0f}/s"
            )
    return lines


def cost_section(run: Any) -> list[str]:
    lines = [
        "",
        f"## Cost per million reports (public us-east-1 prices of {prices.LOOKED_UP}; tools/dlrhub_measure/prices.py)",
    ]
    lines.append("A report: one callback, one final report of a registered message (no customer_ref).")
    for label in [tree.label for tree in run.trees]:
        found = run.costs(label)
        if not found:
            continue
        lines.append(f"{label}:")
        lines += cost.describe(found["plain"])
        units = run.results["write-units"][label]["kinds"]["registration"]["total"]
        line = cost.registration_line(units)
        lines.append(f"  not in the total: {line.name} {line.basis} = ${line.usd:.4f} per million messages")
        whole = run.bill(label)
        if whole:
            lines.append(
                "  the whole bill at 10 M messages a day, per million reports"
                " (tools/dlrhub_measure/scale/bill.py; poller: make bench-scale):"
            )
            lines += [f"  {line.name:<30} {line.basis:<70} ${line.usd:8.4f}" for line in whole]
            lines.append(f"  {'total':<30} {'':<70} ${sum(line.usd for line in whole):8.4f}")
    lines += ["", "Prices:"]
    lines += [f"  ${price.usd:.10g} per {price.unit}: {price.source}" for price in prices.ALL]
    return lines


def sections(run: Any) -> list[str]:
    lines: list[str] = []
    if run.results["write-units"]:
        lines += write_units_section(run.results["write-units"])
    if "times" in run.results["cold-init"]:
        version = f"Python {interpreter_version(run.python)} ({run.python})"
        lines += cold_init_section(run.results["cold-init"]["times"], version, run.profile)
    if run.results["warm-path"]:
        lines += warm_path_section(run.results["warm-path"])
    if run.results["poller"]:
        lines += poller_section(run.results["poller"])
    if "cost" in run.args.parts:
        lines += cost_section(run)
    return lines
