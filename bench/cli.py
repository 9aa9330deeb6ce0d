"""``python -m bench`` (``make bench ARGS=...``): the figures of issue 10, each beside its reference.

Parts (all by default): write units per report kind and item sizes on DynamoDB Local; cold
init of each function against ``import boto3`` (Python 3.13 when ``make`` could build
.venv-bench313); the warm webhook per report against a bare ``UpdateItem``; the poller over
pending Infin8linx messages; the cost per million reports from those figures. ``--baseline
PATH`` measures another checkout in the same run and prints its figures beside these.
``--short`` runs each part once on tiny sizes (CI: it proves the instrument works, it measures
nothing worth reading). Progress goes to stderr; the report to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cold_init, cost, details, import_profile, rows, stats
from bench.cold_init import interpreter, interpreter_version
from bench.local_aws import Endpoints, jar, local_aws, warm_up
from bench.poller_driver import PollerSettings
from bench.poller_driver import measure as measure_poller
from bench.report import Clock, machine_facts, table
from bench.samples import sample_accounts
from bench.trees import HARNESS, Tree, run_once

PARTS = ("write-units", "cold-init", "warm-path", "poller", "cost")


@dataclass(frozen=True)
class Sizes:
    cold_runs: int
    profile_runs: int
    reports: int
    block: int
    warm_up: int
    profile_reports: int
    messages: int
    throughput_writes: int
    jvm_warm_up: int
    scorecard_messages: int = 1200


FULL = Sizes(
    cold_runs=7,
    profile_runs=3,
    reports=400,
    block=25,
    warm_up=30,
    profile_reports=100,
    messages=10_000,
    throughput_writes=2000,
    jvm_warm_up=300,
)
SHORT = Sizes(
    cold_runs=1,
    profile_runs=1,
    reports=10,
    block=5,
    warm_up=2,
    profile_reports=3,
    messages=200,
    scorecard_messages=100,
    throughput_writes=50,
    jvm_warm_up=0,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="each part once, tiny sizes (CI)")
    parser.add_argument("--baseline", type=Path, help="another checkout of this repository, measured in the same run")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run (default all)")
    parser.add_argument("--runs", type=int, help="cold init: timed imports per target (default 7)")
    parser.add_argument("--reports", type=int, help="warm path: timed reports and as many UpdateItems (default 400)")
    parser.add_argument("--messages", type=int, help="poller: pending messages (default 10,000)")
    parser.add_argument("--latency", type=float, default=0.1, help="poller: simulator seconds per request (0.1)")
    parser.add_argument("--concurrency", type=int, default=8, help="poller: PollConcurrency (8)")
    parser.add_argument(
        "--write-concurrency", type=int, default=16, help="poller: writes in flight for the write-bound ideal (16)"
    )
    parser.add_argument("--local-stack", action="store_true", help="also the local stack's reply times per route")
    args = parser.parse_args(argv)
    if args.baseline is not None:
        args.baseline = args.baseline.resolve()
        if not (args.baseline / "template.yaml").exists() or not (args.baseline / "layers" / "core").is_dir():
            parser.error(f"{args.baseline} is not a checkout of this repository")
    return args


def sizes_of(args: argparse.Namespace) -> Sizes:
    base = SHORT if args.short else FULL
    return Sizes(
        cold_runs=args.runs or base.cold_runs,
        profile_runs=base.profile_runs,
        reports=args.reports or base.reports,
        block=base.block,
        warm_up=base.warm_up,
        profile_reports=base.profile_reports,
        messages=args.messages or base.messages,
        throughput_writes=min(base.throughput_writes, args.messages or base.throughput_writes),
        jvm_warm_up=base.jvm_warm_up,
        scorecard_messages=base.scorecard_messages,
    )


def progress(clock: Clock, text: str) -> None:
    print(f"[{clock.elapsed()}] {text}", file=sys.stderr, flush=True)


class Run:
    """One run: the trees, their results per part, and the report."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = sizes_of(args)
        self.after = Tree("after", HARNESS)
        self.before = Tree("before", args.baseline) if args.baseline else None
        self.trees = [tree for tree in (self.before, self.after) if tree is not None]
        self.clock = Clock()
        self.python = interpreter()
        self.runner_python = cold_init.runner_interpreter(self.python)
        self.results: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
        self.profile: list[import_profile.ModuleTime] = []
        self.facts = machine_facts(interpreter_version(self.python), interpreter_version(self.runner_python))

    def measure(self) -> None:
        parts = set(self.args.parts)
        if "cold-init" in parts:
            self.cold_init()
        if {"write-units", "warm-path", "cost"} & parts:
            with self.local_aws() as endpoints:
                self.units_and_warm_path(endpoints, parts)
        if "poller" in parts:
            self.pollers()

    @contextmanager
    def local_aws(self) -> Iterator[Endpoints]:
        progress(self.clock, f"starting DynamoDB Local ({jar().parent.name}) and moto server")
        with local_aws() as endpoints:
            if self.sizes.jvm_warm_up:
                warm_up(endpoints.dynamodb, self.sizes.jvm_warm_up)
            yield endpoints

    def units_and_warm_path(self, endpoints: Endpoints, parts: set[str]) -> None:
        config = {"dynamodb": endpoints.dynamodb, "moto": endpoints.moto, "accounts": sample_accounts()}
        config["scorecard_messages"] = self.sizes.scorecard_messages
        for tree in self.trees:
            if {"write-units", "cost"} & parts:
                progress(self.clock, f"write units, {tree.label}")
                self.results["write-units"][tree.label] = run_once(
                    tree, "write-units", config, timeout=600, python=self.runner_python
                )
            if {"warm-path", "cost"} & parts:
                progress(self.clock, f"warm path, {tree.label}: {self.sizes.reports} reports")
                warm = config | {
                    "reports": self.sizes.reports,
                    "block": self.sizes.block,
                    "warm_up": self.sizes.warm_up,
                    "profile_reports": self.sizes.profile_reports,
                }
                self.results["warm-path"][tree.label] = run_once(
                    tree, "warm-path", warm, timeout=1200, python=self.runner_python
                )

    def pollers(self) -> None:
        """Each tree's poller on a DynamoDB Local of its own: one that already took a tree's 20,000 writes
        answers several times slower (seen on this machine), which would not be the tree's doing."""
        settings = PollerSettings(
            self.sizes.messages,
            self.args.latency,
            self.args.concurrency,
            self.args.write_concurrency,
            self.sizes.throughput_writes,
        )
        for tree in self.trees:
            with self.local_aws() as endpoints:
                progress(self.clock, f"poller, {tree.label}: {settings.messages:,} messages")
                self.results["poller"][tree.label] = measure_poller(tree, endpoints, settings, self.runner_python)

    def cold_init(self) -> None:
        runs = self.sizes.cold_runs
        progress(self.clock, f"cold init: {runs} runs of each function and of import boto3 ({self.python})")
        self.results["cold-init"]["times"] = cold_init.measure(self.trees, runs, self.python, warm=not self.args.short)
        webhook = next(t for t in cold_init.function_targets(self.after) if t.label == "WebhookFunction")
        progress(self.clock, "import profile of the webhook function")
        self.profile = import_profile.profile(self.python, webhook, self.sizes.profile_runs)

    def costs(self, label: str) -> dict[str, cost.CostPerMillion]:
        units = self.results["write-units"].get(label)
        warm = self.results["warm-path"].get(label)
        if units is None or warm is None:
            return {}
        tree = self.after if label == "after" else self.before
        assert tree is not None
        duration = stats.median(warm["handler_ms"])
        log_bytes = stats.median(warm["log_bytes"])
        kinds = units["kinds"]
        return {
            "plain": cost.per_million(
                tree.path, duration, kinds["final report, registered message"]["total"], log_bytes
            ),
            "ref": cost.per_million(tree.path, duration, kinds["final, registered with ref"]["total"], log_bytes),
        }

    def rows(self) -> list[rows.Row]:
        found: list[rows.Row] = []
        units = self.results["write-units"]
        if units:
            found += rows.write_rows(units.get("after"), units.get("before"))
        if "times" in self.results["cold-init"]:
            found += rows.cold_rows(self.results["cold-init"]["times"], "after", "before" if self.before else None)
        warm = self.results["warm-path"]
        if warm:
            found += rows.warm_rows(warm.get("after"), warm.get("before"))
        poller = self.results["poller"]
        if poller:
            found += rows.poller_rows(poller.get("after"), poller.get("before"))
        if "cost" in self.args.parts:
            found += rows.cost_rows(self.costs("after"), self.costs("before"))
            path = self.costs("after").get("plain")
            found += rows.bill_rows(self.bill("after"), self.bill("before"), path.total if path else None)
        return found

    def bill(self, label: str) -> list[cost.Line] | None:
        units = self.results["write-units"].get(label)
        warm = self.results["warm-path"].get(label)
        if units is None or warm is None or "stream" not in units:
            return None
        tree = self.after if label == "after" else self.before
        assert tree is not None
        return cost.whole_bill(tree.path, units, warm)

    def report(self) -> list[str]:
        lines = ["DLR Hub benchmarks (issue 10): python -m bench " + " ".join(sys.argv[1:])]
        lines += self.facts
        lines.append(f"{'':12}load average {os.getloadavg()[0]:.2f} at the end (other work skews figures)")
        for tree in self.trees:
            lines.append(f"{tree.label + ' tree':<11} {tree.path} ({tree.revision()})")
        mode = "short (CI: proves it works, figures not meaningful)" if self.args.short else "full"
        lines.append(f"mode        {mode}")
        sizes = self.sizes
        lines.append(
            f"sizes       cold init {sizes.cold_runs} runs a target; warm path {sizes.reports} reports and as many"
            f" UpdateItems (blocks of {sizes.block}, {sizes.warm_up} untimed first); poller {sizes.messages:,}"
            f" messages, write throughput from {sizes.throughput_writes:,} writes"
        )
        lines.append("")
        lines += table(self.rows(), with_before=self.before is not None)
        lines += details.sections(self)
        return lines


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    run = Run(args)
    run.measure()
    print("\n".join(run.report()))
    if args.local_stack:
        from bench import local_stack_latency

        print("\n## Local stack reply times (moto server, one process)\n", flush=True)
        short = ["--requests", "5", "--budget", "5"] if args.short else []
        return local_stack_latency.main(short)
    return 0
