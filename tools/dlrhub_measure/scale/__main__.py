"""``python -m dlrhub_measure.scale`` (``make bench-scale``): what fails only at ten million messages a day.

A generated day (:mod:`.traffic`) goes through each tree's own code on AWS's DynamoDB Local and the
provider simulators (:mod:`.checks`, in that tree's runner), and through models of what no local engine
shows (:mod:`.models`: ingress, stream shards, the callbacks' queue), each fed by the tree's template and
the measured figures; then the month's bill, line by line (:mod:`.bill`). The README's "Ten million
messages a day" says what each item measures. ``--baseline PATH`` runs another checkout in the same run;
each item prints pass/fail per tree. ``--short`` runs tiny sizes (CI: the instrument works; its figures
mean nothing).
"""

from __future__ import annotations

import argparse
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrhub_measure.aws import put_accounts, sample_accounts, sign_with_dummy_keys
from dlrhub_measure.engines import local_aws
from dlrhub_measure.report import Clock, header, pipe_table
from dlrhub_measure.runner import Tree, arguments, run_once, trees
from dlrhub_measure.scale import bill
from dlrhub_measure.scale.models import CHECKS, describe, judge

PROG = "dlrhub_measure.scale"
PREFIX = "dlrhub/scale"
FULL = {
    "peak_seconds": 8,
    "scale": 1.0,
    "shards": 8,
    "transaction_hold": 0.003,
    "window_scale": 0.02,
    "window_hours": 2,
    "byid_scale": 0.1,
    "byid_runs": 6,
    "warm_reports": 200,
}
SHORT = FULL | {"peak_seconds": 2, "scale": 0.03, "shards": 4, "window_scale": 0.004, "byid_scale": 0.05}
SHORT |= {"byid_runs": 3, "warm_reports": 10}


@dataclass
class TreeResult:
    tree: Tree
    measured: dict[str, Any]
    judged: dict[str, Any]
    bill: list[bill.Line]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments(PROG, __doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=18, help="the generator's seed (18)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    return parser.parse_args(argv)


def measure(tree: Tree, sizes: dict[str, Any], seed: int, clock: Clock) -> dict[str, Any]:
    """Every check of the tree, on a DynamoDB Local and moto server of its own."""
    accounts = sample_accounts()
    with local_aws(300 if sizes is FULL else 0) as engines:
        put_accounts(engines.moto.endpoint, PREFIX, accounts)
        config = sizes | {"prefix": PREFIX, "seed": seed, "accounts": accounts}
        config |= {"dynamodb": engines.dynamodb.endpoint, "moto": engines.moto.endpoint}
        found = {}
        for check in CHECKS:
            clock.progress(f"{tree.label}: {check}")
            found |= run_once(tree, "dlrhub_measure.scale.checks", {**config, "checks": [check]}, timeout=3600)
    return found


def report(results: list[TreeResult], clock: Clock, args: argparse.Namespace, sizes: dict[str, Any]) -> list[str]:
    python = f"{platform.python_version()} (the harness and the tree runners)"
    trees = [r.tree for r in results]
    title = "DLR Hub at 10 M messages a day"
    lines = header(clock, title, PROG, python=python, short=args.short, trees=trees, sizes=json.dumps(sizes))
    labels = [r.tree.label for r in results]
    described = [describe(r.judged) for r in results]
    rows = [
        [item, *("pass" if r.judged[item]["passed"] else "FAIL" for r in results), *(d[item] for d in described)]
        for item in results[-1].judged
    ]
    lines += ["", *pipe_table(["item", *labels, *(f"{label}: figures" for label in labels)], rows)]
    lines += ["", "Peak writes a second of the busiest key of each kind (the replay's busiest second, at full rate)"]
    lines.append("")
    keys = [r.judged["7 hot keys"]["keys"] for r in results]
    rows = []
    for kind in sorted({kind for found in keys for kind in found}):
        rows.append([kind, *(f"{writes:,.0f} ({key[:48]})" for key, writes in (k.get(kind, ("-", 0)) for k in keys))])
    lines += pipe_table(["table / index: key kind", *labels], rows)
    lines += ["", "A month at 10 M messages a day (US East prices of tools/dlrhub_measure/prices.py)", ""]
    rows = [
        [line.name, line.basis, *(f"${r.bill[n].usd:,.0f}" for r in results)] for n, line in enumerate(results[-1].bill)
    ]
    rows.append(["total", "", *(f"${bill.total(r.bill):,.0f}" for r in results)])
    return lines + pipe_table(["line", "basis (after)", *labels], rows)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sign_with_dummy_keys()
    sizes = SHORT if args.short else FULL
    clock = Clock()
    results = []
    for tree in trees(args.baseline):
        found = measure(tree, sizes, args.seed, clock)
        judged, lines = judge(tree.path, found, args.seed, sizes["scale"], sizes["window_scale"])
        results.append(TreeResult(tree, found, judged, lines))
    print("\n".join(report(results, clock, args, sizes)))
    if args.json:
        figures = {r.tree.label: {"measured": r.measured, "judged": r.judged} for r in results}
        args.json.write_text(json.dumps(figures, default=str, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
