"""``python -m proof`` (``make proof``): the proof suites of issue 12 in their full modes, one table.

Hostile input, provider retries and load run against one local stack; the faults suite against a
stack whose DynamoDB Local and moto server sit behind fault-injecting proxies. Each suite's details
go to stderr as it ends; the table (and the machine and date) to stdout. Exit status 1 when any
pass criterion failed (each failure is listed). ``--short`` runs the CI sizes; ``--suites`` some.
"""

from __future__ import annotations

import os

# Before the hub's modules are imported: the loggers of the in-process poller are named after the
# service, and its AWS clients sign with dummy keys (only loopback endpoints are ever called).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "dlrhub")
for _key, _value in {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_key, _value)
os.environ.pop("AWS_PROFILE", None)

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.report import cpu_model  # noqa: E402
from proof import faults, hostile, load, retries  # noqa: E402
from proof.figures import Figures, table  # noqa: E402
from proof.target import running  # noqa: E402

SUITES = ("hostile", "retries", "load", "faults")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def details(figures: Figures) -> None:
    say(f"\n== {figures.suite}: {len(figures.failures)} failures, {figures.seconds:.0f} s")
    for note in figures.notes:
        say(f"  {note[:400]}")
    for failure in figures.failures[:30]:
        say(f"  FAILED {failure[:400]}")


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="proof", description=__doc__)
    cli.add_argument("--short", action="store_true", help="the CI sizes (seconds, not minutes)")
    cli.add_argument("--suites", default=",".join(SUITES), help=f"comma-separated, of {', '.join(SUITES)}")
    args = cli.parse_args(argv)
    chosen = [name.strip() for name in args.suites.split(",") if name.strip()]
    if unknown := set(chosen) - set(SUITES):
        cli.error(f"no such suite: {', '.join(sorted(unknown))}")
    size = "SHORT" if args.short else "FULL"
    started, load_average = time.monotonic(), os.getloadavg()[0]
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="dlrhub-proof-") as directory:
        if set(chosen) & {"hostile", "retries", "load"}:
            say("starting the local stack …")
            with running(Path(directory)) as target:
                for name, module in (("hostile", hostile), ("retries", retries), ("load", load)):
                    if name in chosen:
                        say(f"{name} ({size.lower()}) …")
                        results.append(module.run(target, getattr(module, size)))
                        details(results[-1])
        if "faults" in chosen:
            say("starting DynamoDB Local and moto server behind proxies, and the stack on them …")
            with faults.rig(Path(directory)) as rig:
                results.append(faults.run(rig, getattr(faults, size)))
                details(results[-1])
    print(f"\nDLR Hub proof ({size.lower()} mode), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, ", end="")
    print(f"{os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}, Python", end=" ")
    print(f"{platform.python_version()}, load average {load_average:.2f} at start, {time.monotonic() - started:.0f} s")
    print()
    print(table(results))
    failed = [figures for figures in results if figures.failures]
    print()
    if failed:
        print("FAILED: " + "; ".join(f"{f.suite} ({len(f.failures)} failures, listed above)" for f in failed))
        return 1
    print("every pass criterion held (5xx in the faults row: the engines were down, as meant)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
