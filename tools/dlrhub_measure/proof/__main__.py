"""``python -m dlrhub_measure.proof`` (``make proof``): the proof suites (docs/proof.md), one table.

Hostile input, provider retries and load run against one local stack; the faults suite against a
stack whose DynamoDB Local and moto server sit behind fault-injecting proxies. Each suite's details
go to stderr as it ends; the table (and the machine and date) to stdout. Exit status 1 when any
pass criterion failed (each failure is listed). ``--short`` runs the CI sizes; ``--suites`` some.
"""

from __future__ import annotations

import os

from dlrhub_measure.aws import sign_with_dummy_keys

# Before the hub's modules are imported: the loggers of the in-process poller are named after the
# service, and its AWS clients sign with dummy keys (only loopback endpoints are ever called).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "dlrhub")
sign_with_dummy_keys()
os.environ.pop("AWS_PROFILE", None)

import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from dlrhub_measure.proof import faults, hostile, load, retries  # noqa: E402
from dlrhub_measure.proof.figures import Figures, table  # noqa: E402
from dlrhub_measure.proof.target import running  # noqa: E402
from dlrhub_measure.report import Clock, header  # noqa: E402
from dlrhub_measure.runner import arguments  # noqa: E402

PROG = "dlrhub_measure.proof"
SUITES = ("hostile", "retries", "load", "faults")


def details(figures: Figures) -> None:
    lines = [f"\n== {figures.suite}: {len(figures.failures)} failures, {figures.seconds:.0f} s"]
    lines += [f"  {note[:400]}" for note in figures.notes]
    lines += [f"  FAILED {failure[:400]}" for failure in figures.failures[:30]]
    print("\n".join(lines), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    cli = arguments(PROG, __doc__.splitlines()[0], baseline=False)
    cli.add_argument("--suites", default=",".join(SUITES), help=f"comma-separated, of {', '.join(SUITES)}")
    args = cli.parse_args(argv)
    chosen = [name.strip() for name in args.suites.split(",") if name.strip()]
    if unknown := set(chosen) - set(SUITES):
        cli.error(f"no such suite: {', '.join(sorted(unknown))}")
    size = "SHORT" if args.short else "FULL"
    clock = Clock()
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="dlrhub-proof-") as directory:
        if set(chosen) & {"hostile", "retries", "load"}:
            clock.progress("starting the local stack …")
            with running(Path(directory)) as target:
                for name, module in (("hostile", hostile), ("retries", retries), ("load", load)):
                    if name in chosen:
                        clock.progress(f"{name} ({size.lower()}) …")
                        results.append(module.run(target, getattr(module, size)))
                        details(results[-1])
        if "faults" in chosen:
            clock.progress("starting DynamoDB Local and moto server behind proxies, and the stack on them …")
            with faults.rig(Path(directory)) as rig:
                results.append(faults.run(rig, getattr(faults, size)))
                details(results[-1])
    python = f"{platform.python_version()} (the harness; the stack's functions in its process)"
    print("\n".join(["", *header(clock, "DLR Hub proof", PROG, python=python, short=args.short), "", *table(results)]))
    failed = [figures for figures in results if figures.failures]
    print()
    if failed:
        print("FAILED: " + "; ".join(f"{f.suite} ({len(f.failures)} failures, listed above)" for f in failed))
        return 1
    print("every pass criterion held (5xx in the faults row: the engines were down, as meant)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
