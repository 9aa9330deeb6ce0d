"""``python -m dlrhub_local`` (``make run``): the local stack until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from dlrhub_local import config as local_config
from dlrhub_local.stack import start

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlrhub_local", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--config", type=Path, default=ROOT / ".dlrhub-local.json", help="demo accounts and secrets")
    parser.add_argument("--verbose", action="store_true", help="show the functions' INFO logs too")
    parser.add_argument(
        "--poll-every", type=float, default=15.0, metavar="SECONDS", help="run the poller this often (0: never)"
    )
    parser.add_argument(
        "--report-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="run the Infin8linx monitor reporter this often (0: never); locally it reports 5-minute windows",
    )
    parser.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="register demo messages at start; the simulators call back for some, the poller asks for the others",
    )
    args = parser.parse_args(argv)

    def emit(line: str) -> None:
        print(line, flush=True)

    config = local_config.load_or_create(args.config)
    stack = start(
        args.template,
        config,
        args.port,
        emit,
        verbose=args.verbose,
        poll_every=args.poll_every,
        report_every=args.report_every,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    emit(f"DLR Hub local stack on {stack.gateway_url}")
    emit(f"  DynamoDB (moto server): {stack.moto.endpoint}  table {stack.env['TABLE_NAME']}")
    emit(f"  accounts and secrets:   {args.config}")
    emit("  customer API routes (IAM-authorised when deployed; open here):")
    for route in stack.iam_routes:
        emit(f"    {route}")
    asked = {provider: sim for provider, sim in stack.simulators.items() if sim.account_urls()}
    if asked:
        every = f"polled every {args.poll_every:g} s" if args.poll_every > 0 else "not polled (--poll-every 0)"
        emit(f"  provider simulators ({every}):")
        for provider, simulator in asked.items():
            emit(f"    {provider:<10} {simulator.url}")
    calling = sorted(set(stack.simulators) - set(asked))
    if calling:  # the hub never asks these: their simulators only call back, or put events on the local bus
        emit(f"  simulated providers that only report in: {', '.join(calling)}")
    emit("try:")
    for what, command in stack.examples():
        emit(f"  # {what}")
        emit(f"  {command}")
    emit("ready - stored reports are shown below; Ctrl-C stops everything")
    if args.demo:
        stack.start_demo()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.shutdown()
        emit("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
