"""``python -m dlrhub_local`` (``make run``): the local stack until Ctrl-C (SIGINT), SIGTERM or SIGHUP."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from dlrhub_local.callbacks import CallbackAuth, CallbackSettings
from dlrhub_local.defaults import MONITOR_LAG, MONITOR_WINDOW
from dlrhub_local.services import APPROXIMATE, spawn_services

ROOT = Path(__file__).resolve().parents[2]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlrhub_local", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--config", type=Path, default=ROOT / ".dlrhub-local.json", help="accounts and secrets")
    parser.add_argument("--verbose", action="store_true", help="show the functions' INFO logs too")
    parser.add_argument(
        "--poll-every", type=float, default=15.0, metavar="SECONDS", help="run the poller this often (0: never)"
    )
    parser.add_argument(
        "--report-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="run the Infin8linx monitor reporter this often (0: never)",
    )
    parser.add_argument(
        "--poll-accounts",
        metavar="LIST",
        help="provider/account pairs, comma-separated, that the poller and the reporter work on"
        " (PollAccounts; default: every account of the config)",
    )
    parser.add_argument(
        "--monitor-window",
        type=int,
        default=MONITOR_WINDOW,
        metavar="MINUTES",
        help=f"monitor report window, a multiple of 5 (MonitorWindowMinutes; default {MONITOR_WINDOW})",
    )
    parser.add_argument(
        "--monitor-lag",
        type=int,
        default=MONITOR_LAG,
        metavar="MINUTES",
        help=f"wait after a window's end before reporting it (MonitorLagMinutes; default {MONITOR_LAG})",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help="keep the table (DynamoDB Local's data) in PATH between runs; default: in memory",
    )
    parser.add_argument(
        "--dynamodb",
        choices=("local", "moto"),
        default="local",
        help="the table's engine: AWS's DynamoDB Local (default), or moto server (approximate)",
    )
    parser.add_argument(
        "--dynamodb-endpoint",
        metavar="URL",
        help="the table's engine already running at URL (e.g. DynamoDB Local behind a proxy): none is started",
    )
    parser.add_argument(
        "--aws-endpoint",
        metavar="URL",
        help="Secrets Manager, EventBridge and SQS already running at URL (e.g. moto server): none is started",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="PATH",
        help="parked stream batches and DynamoDB Local's log (default: the config's path without .json)",
    )
    parser.add_argument(
        "--dynamodb-port",
        type=int,
        default=0,
        metavar="PORT",
        help="DynamoDB Local's port (default: any free one; events/env-local.json expects 8000)",
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=0,
        metavar="PORT",
        help="moto server's port: Secrets Manager, EventBridge (default: any free one; env-local.json expects 5000)",
    )
    callbacks = parser.add_argument_group("customer callbacks (the deployed CallbackUrl, through EventBridge)")
    callbacks.add_argument("--callback-url", metavar="URL", help="POST each status-change event's detail here")
    callbacks.add_argument("--callback-auth-type", choices=("API_KEY", "BASIC"), default="API_KEY")
    callbacks.add_argument(
        "--callback-auth-name", default="x-api-key", help="the header's name (API_KEY) or the user (BASIC)"
    )
    callbacks.add_argument(
        "--callback-secret",
        default=os.environ.get("DLRHUB_CALLBACK_SECRET", ""),
        help="the header's value or the password (default: $DLRHUB_CALLBACK_SECRET; never printed)",
    )
    callbacks.add_argument("--callback-final-only", action="store_true", help="final statuses only")
    parser.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="register demo messages at start; the simulators call back for some, the poller asks for the others",
    )
    return parser


def callback_settings(args: argparse.Namespace) -> CallbackSettings | None:
    if not args.callback_url:
        return None
    auth = CallbackAuth(args.callback_auth_type, args.callback_auth_name, args.callback_secret)
    return CallbackSettings(args.callback_url, auth, args.callback_final_only)


def poll_accounts(text: str | None, accounts: dict[str, object]) -> list[str] | None:
    """The accounts of ``--poll-accounts`` (None: every one); ValueError naming one the config lacks."""
    if text is None:
        return None
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in accounts]
    if unknown:
        raise ValueError(f"not in the config: {', '.join(unknown)} (known: {', '.join(accounts)})")
    return chosen


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if not 5 <= args.monitor_window <= 1440 or args.monitor_window % 5:
        cli.error("--monitor-window must be a multiple of 5 from 5 to 1440")
    if not 0 <= args.monitor_lag <= 1440:
        cli.error("--monitor-lag must be from 0 to 1440")
    if args.dynamodb_endpoint and (args.dynamodb != "local" or args.data_dir):
        cli.error("--dynamodb-endpoint uses an engine already running: --dynamodb and --data-dir do not apply")

    # Set before anything starts. A background job of a non-interactive shell has SIGINT ignored
    # (SIG_IGN, which Python keeps): the stack stops on it all the same.
    done = threading.Event()
    for number in STOP_SIGNALS:
        signal.signal(number, lambda *_: done.set())

    def emit(line: str) -> None:
        print(line, flush=True)

    state_dir = args.state_dir or args.config.with_suffix("")
    data_dir = args.data_dir.resolve() if args.data_dir else None
    # DynamoDB Local's JVM is the slowest to start: first, while Python imports the functions' code.
    services = spawn_services(
        dynamodb=args.dynamodb,
        data_dir=data_dir,
        log_dir=state_dir,
        dynamodb_endpoint=args.dynamodb_endpoint,
        aws_endpoint=args.aws_endpoint,
        dynamodb_port=args.dynamodb_port,
        moto_port=args.aws_port,
    )
    try:
        from dlrhub_local import config as local_config
        from dlrhub_local.stack import start

        config = local_config.load_or_create(args.config)
        try:
            polled = poll_accounts(args.poll_accounts, config["accounts"])
        except ValueError as error:
            cli.error(f"--poll-accounts: {error}")
        stack = start(
            args.template,
            config,
            args.port,
            emit,
            verbose=args.verbose,
            poll_every=args.poll_every,
            report_every=args.report_every,
            poll_accounts=polled,
            monitor_window=args.monitor_window,
            monitor_lag=args.monitor_lag,
            state_dir=state_dir,
            services=services,
            callback=callback_settings(args),
        )
    except BaseException:
        services.stop()
        raise
    try:
        services = stack.services
        if services.fallback:
            emit(f"WARNING: the table runs on moto server, not on DynamoDB Local: {services.fallback}")
            emit(f"WARNING: on moto server {APPROXIMATE} (README: 'Without DynamoDB Local')")
            if args.data_dir:
                emit("WARNING: --data-dir is ignored: moto server keeps the table in memory")
        emit(f"DLR Hub local stack on {stack.gateway_url}")
        emit(f"  page (messages live, provider scorecard): {stack.gateway_url}/")
        table = stack.env["TABLE_NAME"]
        emit(f"  DynamoDB ({services.engine}, {services.storage}): {services.table_endpoint}  table {table}")
        emit(f"  Secrets Manager, EventBridge ({services.aws_engine}): {services.moto.endpoint}")
        if stack.stream is not None:
            emit(f"  stream function: {stack.stream.describe()}")
        emit(f"  accounts and secrets:   {args.config}")
        emit("  customer API routes (IAM-authorised when deployed; open here):")
        for route in stack.iam_routes:
            emit(f"    {route}")
        polled_names = ", ".join(polled if polled is not None else config["accounts"]) or "none"
        if args.poll_every > 0:
            emit(f"  polled every {args.poll_every:g} s: {polled_names}")
        if args.report_every > 0:
            emit(
                f"  Infin8linx monitor report every {args.report_every:g} s: {args.monitor_window}-minute windows,"
                f" reported {args.monitor_lag} min after they end"
            )
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
        if args.demo and not done.is_set():
            stack.start_demo()
        while not done.wait(1.0):
            pass
    finally:
        stack.shutdown()
        emit("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
