"""``python -m dlrhub_measure.bench`` (``make bench``): cost and speed figures, each beside its reference.

Parts (all by default): write units per report kind and item sizes on DynamoDB Local; cold init of
each function against ``import boto3`` (Python 3.13 when ``make`` could build .venv-bench313); the
warm webhook per report against a bare ``UpdateItem``; the poller over pending Infin8linx messages;
the cost per million reports from those figures. The goals are the README's ("Figures"). ``--baseline
PATH`` measures another checkout in the same run and prints its figures beside these. ``--short``
runs each part once on tiny sizes (CI: it proves the instrument works, it measures nothing worth
reading). Progress goes to stderr; the report to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dlrhub_measure import stats
from dlrhub_measure.aws import sample_accounts
from dlrhub_measure.bench import cold_init, cost, details, import_profile, poller, rows
from dlrhub_measure.engines import Engines, jar, local_aws
from dlrhub_measure.report import Clock, header
from dlrhub_measure.runner import Tree, arguments, run_once, trees
from dlrhub_measure.scale.bill import Line

PROG = "dlrhub_measure.bench"
PARTS = ("write-units", "cold-init", "warm-path", "poller", "cost")


@dataclass(frozen=True)
class Sizes:
    cold_runs: int = 7
    profile_runs: int = 3
    reports: int = 400
    block: int = 25
    warm_up: int = 30
    profile_reports: int = 100
    messages: int = 10_000
    throughput_writes: int = 2000
    jvm_warm_up: int = 300
    #: messages through the stream handler for the scorecard's write units
    scorecard_messages: int = 1200


FULL = Sizes()
SHORT = Sizes(
    cold_runs=1,
    profile_runs=1,
    reports=10,
    block=5,
    warm_up=2,
    profile_reports=3,
    messages=200,
    throughput_writes=50,
    jvm_warm_up=0,
    scorecard_messages=100,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments(PROG, __doc__.splitlines()[0])
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
    return parser.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    base = SHORT if args.short else FULL
    messages = args.messages or base.messages
    return dataclasses.replace(
        base,
        cold_runs=args.runs or base.cold_runs,
        reports=args.reports or base.reports,
        messages=messages,
        throughput_writes=min(base.throughput_writes, messages),
    )


class Run:
    """One run: the trees, their results per part, and the report."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = sizes_of(args)
        self.trees = trees(args.baseline)
        self.clock = Clock()
        self.python = cold_init.interpreter()
        self.runner_python = cold_init.runner_interpreter(self.python)
        self.results: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
        self.profile: list[import_profile.ModuleTime] = []

    def tree(self, label: str) -> Tree:
        return next(tree for tree in self.trees if tree.label == label)

    def measure(self) -> None:
        parts = set(self.args.parts)
        if "cold-init" in parts:
            self.cold_init()
        if {"write-units", "warm-path", "cost"} & parts:
            with self.local_aws() as engines:
                self.units_and_warm_path(engines, parts)
        if "poller" in parts:
            self.pollers()

    @contextmanager
    def local_aws(self) -> Iterator[Engines]:
        self.clock.progress(f"starting DynamoDB Local ({jar().parent.name}) and moto server")
        with local_aws(self.sizes.jvm_warm_up) as engines:
            yield engines

    def units_and_warm_path(self, engines: Engines, parts: set[str]) -> None:
        config = {"dynamodb": engines.dynamodb.endpoint, "moto": engines.moto.endpoint, "accounts": sample_accounts()}
        config["scorecard_messages"] = self.sizes.scorecard_messages
        sizes = dataclasses.asdict(self.sizes)
        # Every tree's warm path first: the write units' thousands of stream records (the scorecard's)
        # leave the engine about five times slower for a while (a bare UpdateItem 3 ms -> 18 ms here).
        for tree in self.trees if {"warm-path", "cost"} & parts else []:
            self.clock.progress(f"warm path, {tree.label}: {self.sizes.reports} reports")
            self.results["warm-path"][tree.label] = run_once(
                tree, "dlrhub_measure.bench.warm_path", config | sizes, timeout=1200, python=self.runner_python
            )
        for tree in self.trees if {"write-units", "cost"} & parts else []:
            self.clock.progress(f"write units, {tree.label}")
            self.results["write-units"][tree.label] = run_once(
                tree, "dlrhub_measure.bench.write_units", config, timeout=600, python=self.runner_python
            )

    def pollers(self) -> None:
        """Each tree's poller on a DynamoDB Local of its own: one that already took a tree's 20,000 writes
        answers several times slower (seen on this machine), which would not be the tree's doing."""
        settings = poller.Settings(
            self.sizes.messages,
            self.args.latency,
            self.args.concurrency,
            self.args.write_concurrency,
            self.sizes.throughput_writes,
        )
        for tree in self.trees:
            with self.local_aws() as engines:
                self.clock.progress(f"poller, {tree.label}: {settings.messages:,} messages")
                self.results["poller"][tree.label] = poller.measure(tree, engines, settings, self.runner_python)

    def cold_init(self) -> None:
        runs = self.sizes.cold_runs
        self.clock.progress(f"cold init: {runs} runs of each function and of import boto3 ({self.python})")
        self.results["cold-init"]["times"] = cold_init.measure(self.trees, runs, self.python, warm=not self.args.short)
        after = self.tree("after")
        webhook = next(t for t in cold_init.function_targets(after) if t.label == "WebhookFunction")
        self.clock.progress("import profile of the webhook function")
        self.profile = import_profile.profile(self.python, webhook, self.sizes.profile_runs)

    def measured(self, label: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(write units, warm path) of a tree, when both parts ran."""
        units, warm = self.results["write-units"].get(label), self.results["warm-path"].get(label)
        return (units, warm) if units is not None and warm is not None else None

    def costs(self, label: str) -> dict[str, cost.CostPerMillion]:
        if (found := self.measured(label)) is None:
            return {}
        units, warm = found
        duration, log_bytes = stats.median(warm["handler_ms"]), stats.median(warm["log_bytes"])
        kinds, path = units["kinds"], self.tree(label).path
        return {
            name: cost.per_million(path, duration, kinds[kind]["total"], log_bytes)
            for name, kind in (("plain", "final report, registered message"), ("ref", "final, registered with ref"))
        }

    def bill(self, label: str) -> list[Line] | None:
        if (found := self.measured(label)) is None:
            return None
        return cost.whole_bill(self.tree(label).path, *found)

    def rows(self) -> list[rows.Row]:
        found: list[rows.Row] = []
        results = self.results
        if units := results["write-units"]:
            found += rows.write_rows(units.get("after"), units.get("before"))
        if "times" in results["cold-init"]:
            found += rows.cold_rows(results["cold-init"]["times"], "after", "before" if len(self.trees) > 1 else None)
        if warm := results["warm-path"]:
            found += rows.warm_rows(warm.get("after"), warm.get("before"))
        if polled := results["poller"]:
            found += rows.poller_rows(polled.get("after"), polled.get("before"))
        if "cost" in self.args.parts:
            found += rows.cost_rows(self.costs("after"), self.costs("before"))
            path = self.costs("after").get("plain")
            found += rows.bill_rows(self.bill("after"), self.bill("before"), path.total if path else None)
        return found

    def report(self) -> list[str]:
        runners, cold = (cold_init.interpreter_version(python) for python in (self.runner_python, self.python))
        pythons = f"harness {platform.python_version()}; tree runners (handlers, store) {runners}; cold init {cold}"
        s = self.sizes
        sizes = (
            f"cold init {s.cold_runs} runs a target; warm path {s.reports} reports and as many UpdateItems (blocks"
            f" of {s.block}, {s.warm_up} untimed first); poller {s.messages:,} messages, write throughput from"
            f" {s.throughput_writes:,} writes"
        )
        lines = header(
            self.clock, "DLR Hub benchmarks", PROG, python=pythons, short=self.args.short, trees=self.trees, sizes=sizes
        )
        return [*lines, "", *rows.table(self.rows(), with_before=len(self.trees) > 1), *details.sections(self)]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    run = Run(args)
    run.measure()
    print("\n".join(run.report()))
    if args.local_stack:
        from dlrhub_measure.bench import local_stack_latency

        print("\n## Local stack reply times (moto server, one process)\n", flush=True)
        return local_stack_latency.main(["--requests", "5", "--budget", "5"] if args.short else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
