"""python -m dlrhub_local (make run): the local stack, until Ctrl-C (SIGINT), SIGTERM or SIGHUP."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import textwrap
import threading
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from dlrhub_local.callbacks import CallbackAuth, CallbackSettings
from dlrhub_local.defaults import MONITOR_LAG, MONITOR_WINDOW, PORT, ports_sentence
from dlrhub_local.processes import LOOPBACK
from dlrhub_local.services import APPROXIMATE, spawn_services

if TYPE_CHECKING:  # imported when the services are started: see start_stack
    from dlrhub_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CALLBACK_SECRET_VARIABLE = "DLRHUB_CALLBACK_SECRET"

DESCRIPTION = """\
Run DLR Hub on this machine, with no AWS account and no Docker, until Ctrl-C: AWS's DynamoDB
Local holding the table of template.yaml, moto server for Secrets Manager, EventBridge and SQS,
the template's HTTP API routes, a simulator of each provider, the poller, the stream function,
the monitor reporter and the EventBridge rules. The functions' log lines are told in words.
"""

EPILOG = textwrap.fill(
    f"{ports_sentence()} The banner lists every address, and commands to try; the README's section 'Try it' says more.",
    width=95,
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description as written, and each option's default where it has one worth telling."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        if isinstance(default, Path):
            default = default.relative_to(ROOT) if default.is_relative_to(ROOT) else default
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        return f"{text} (default: {shown.replace('%', '%%')})"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dlrhub_local", description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter
    )
    parser.add_argument("--port", type=int, default=PORT, help="the HTTP API's port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--config", type=Path, default=ROOT / ".dlrhub-local.json", metavar="PATH", help="the accounts, their secrets"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="PATH",
        help="parked stream batches, DynamoDB Local's log and the env-vars file (default: the config's path"
        " without .json: .dlrhub-local/)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help="keep the table (DynamoDB Local's data) in PATH between runs (default: in memory)",
    )
    demo = parser.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True)
    # set after: Python 3.11's BooleanOptionalAction would add "(default: True)" to a help given above
    demo.help = (
        "register demo messages at start (the default); the simulators call back for some, the poller asks"
        " for the others"
    )
    parser.add_argument("--verbose", action="store_true", help="tell the functions' INFO log lines too")
    parser.add_argument(
        "--json-logs",
        action="store_true",
        help="print the functions' log lines as they are (Powertools JSON, as in CloudWatch), not in words",
    )
    parser.add_argument(
        "--template", type=Path, default=ROOT / "template.yaml", metavar="PATH", help="the SAM template to run"
    )
    schedules = parser.add_argument_group("schedules (the deployed stack's template parameters in brackets)")
    schedules.add_argument(
        "--poll-every",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="run the poller this often (PollSchedule; 0: never)",
    )
    schedules.add_argument(
        "--report-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="run the Infin8linx monitor reporter this often (MonitorSchedule; 0: never)",
    )
    schedules.add_argument(
        "--poll-accounts",
        metavar="LIST",
        help="provider/account pairs, comma-separated, that the poller and the reporter work on"
        " (PollAccounts; default: every account of the config)",
    )
    schedules.add_argument(
        "--monitor-window",
        type=int,
        default=MONITOR_WINDOW,
        metavar="MINUTES",
        help="the monitor report's window, a multiple of 5 (MonitorWindowMinutes)",
    )
    schedules.add_argument(
        "--monitor-lag",
        type=int,
        default=MONITOR_LAG,
        metavar="MINUTES",
        help="the wait after a window's end before reporting it (MonitorLagMinutes)",
    )
    engines = parser.add_argument_group("where the AWS services run")
    engines.add_argument(
        "--dynamodb",
        choices=("local", "moto"),
        default="local",
        help="the table's engine: AWS's DynamoDB Local, or moto server (approximate)",
    )
    engines.add_argument(
        "--dynamodb-port", type=int, default=0, metavar="PORT", help="DynamoDB Local's port (0: any free one)"
    )
    engines.add_argument(
        "--aws-port",
        type=int,
        default=0,
        metavar="PORT",
        help="moto server's port: Secrets Manager, EventBridge, SQS (0: any free one)",
    )
    engines.add_argument(
        "--dynamodb-endpoint",
        metavar="URL",
        help="use the table's engine already running at URL (DynamoDB Local behind a proxy, say): none is started",
    )
    engines.add_argument(
        "--aws-endpoint",
        metavar="URL",
        help="use Secrets Manager, EventBridge and SQS already running at URL (moto server): none is started",
    )
    callbacks = parser.add_argument_group("customer callbacks (the deployed CallbackUrl, through EventBridge)")
    callbacks.add_argument("--callback-url", metavar="URL", help="POST each status-change event's detail here")
    callbacks.add_argument(
        "--callback-auth-type",
        choices=("API_KEY", "BASIC"),
        default="API_KEY",
        help="a header holding a key, or basic auth (CallbackAuthType)",
    )
    callbacks.add_argument(
        "--callback-auth-name",
        default="x-api-key",
        metavar="NAME",
        help="the header's name (API_KEY) or the user (BASIC) (CallbackAuthName)",
    )
    callbacks.add_argument(
        "--callback-secret",
        metavar="KEY",
        help=f"the header's value or the password (CallbackAuthSecret; default: ${CALLBACK_SECRET_VARIABLE};"
        " never printed)",
    )
    callbacks.add_argument(
        "--callback-final-only", action="store_true", help="call back for final statuses only (CallbackFinalOnly)"
    )
    return parser


def callback_settings(args: argparse.Namespace) -> CallbackSettings | None:
    if not args.callback_url:
        return None
    secret = args.callback_secret or os.environ.get(CALLBACK_SECRET_VARIABLE, "")
    auth = CallbackAuth(args.callback_auth_type, args.callback_auth_name, secret)
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


def port_taken(args: argparse.Namespace) -> str | None:
    """One line for a port given (or the default) that something else holds; None when all are free."""
    for flag, port in (("--port", args.port), ("--dynamodb-port", args.dynamodb_port), ("--aws-port", args.aws_port)):
        if not port:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is free
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                return (
                    f"dlrhub_local: port {port} of 127.0.0.1 is in use (another make run?): stop what holds it,"
                    f" or choose another with {flag} (0: any free port)"
                )
    return None


def checked(cli: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The options, once they make sense together (else exits 2, as argparse does, saying why)."""
    args = cli.parse_args(argv)
    if taken := port_taken(args):
        print(taken, file=sys.stderr)
        sys.exit(2)
    if not 5 <= args.monitor_window <= 1440 or args.monitor_window % 5:
        cli.error("--monitor-window must be a multiple of 5 from 5 to 1440")
    if not 0 <= args.monitor_lag <= 1440:
        cli.error("--monitor-lag must be from 0 to 1440")
    if args.dynamodb_endpoint and (args.dynamodb != "local" or args.data_dir):
        cli.error("--dynamodb-endpoint uses an engine already running: --dynamodb and --data-dir do not apply")
    return args


def start_stack(cli: argparse.ArgumentParser, args: argparse.Namespace, emit: Callable[[str], None]) -> LocalStack:
    """The services first (DynamoDB Local's JVM is the slowest to start: while Python imports the functions'
    code), then the rest of the stack on them; the services stopped again when that fails."""
    state_dir = args.state_dir or args.config.with_suffix("")
    services = spawn_services(
        dynamodb=args.dynamodb,
        data_dir=args.data_dir.resolve() if args.data_dir else None,
        log_dir=state_dir,
        dynamodb_endpoint=args.dynamodb_endpoint,
        aws_endpoint=args.aws_endpoint,
        dynamodb_port=args.dynamodb_port,
        moto_port=args.aws_port,
    )
    try:
        from dlrhub_local import config as local_config
        from dlrhub_local.stack import Options, start

        config = local_config.load_or_create(args.config)
        try:
            polled = poll_accounts(args.poll_accounts, config["accounts"])
        except ValueError as error:
            cli.error(f"--poll-accounts: {error}")
        # The options of the same name as a setting, then those make run reads first.
        same = {setting.name: getattr(args, setting.name) for setting in fields(Options) if hasattr(args, setting.name)}
        read = {"poll_accounts": polled, "state_dir": state_dir, "config_path": str(args.config)}
        options = Options(**same | read, callback=callback_settings(args))
        return start(args.template, config, emit, options, services)
    except BaseException:
        services.stop()
        raise


def banner(stack: LocalStack, data_dir: bool) -> list[str]:
    """What the stack prints once ready: where everything is, what runs on a schedule, commands to try."""
    services = stack.services
    lines = []
    if services.fallback:
        lines.append(f"WARNING: the table runs on moto server, not on DynamoDB Local: {services.fallback}")
        lines.append(f"WARNING: on moto server {APPROXIMATE} (README: 'Without DynamoDB Local')")
        if data_dir:
            lines.append("WARNING: --data-dir is ignored: moto server keeps the table in memory")
    tries = [line for what, command in stack.examples() for line in (f"  # {what}", f"  {command}")]
    return lines + addresses(stack) + schedules(stack) + ["try:", *tries]


def addresses(stack: LocalStack) -> list[str]:
    """The banner's lines about where each part listens, and the files it uses."""
    services, url = stack.services, stack.gateway_url
    missing = "" if stack.swagger_ui else " (Swagger UI not installed: make run installs it)"
    table = f"{services.table_endpoint}  table {stack.env['TABLE_NAME']}"
    lines = [
        f"DLR Hub local stack on {url}",
        f"  {ports_sentence(url.rsplit(':', 1)[1])}",
        f"  page (messages live, provider scorecard): {url}/",
        f"  customer API docs: {url}/docs{missing}  OpenAPI document: {url}/openapi.json",
        f"  DynamoDB ({services.engine}, {services.storage}): {table}",
        f"  Secrets Manager, EventBridge ({services.aws_engine}): {services.moto.endpoint}",
    ]
    if stack.stream is not None:
        lines.append(f"  stream function: {stack.stream.describe()}")
    lines.append(f"  accounts and secrets:   {stack.options.config_path}")
    if stack.env_vars is not None:
        lines.append(f"  env-vars file (make invoke, sam local invoke --env-vars): {stack.env_vars}")
    lines.append("  customer API routes (IAM-authorised when deployed; open here):")
    return lines + [f"    {route}" for route in stack.iam_routes]


def schedules(stack: LocalStack) -> list[str]:
    """The banner's lines about what runs on a schedule, and the simulators the poller asks."""
    options, lines = stack.options, []
    if options.poll_every > 0:
        polled = options.poll_accounts if options.poll_accounts is not None else stack.config["accounts"]
        lines.append(f"  polled every {options.poll_every:g} s: {', '.join(polled) or 'none'}")
    if options.report_every > 0:
        lines.append(
            f"  Infin8linx monitor report every {options.report_every:g} s: {options.monitor_window}-minute windows,"
            f" reported {options.monitor_lag} min after they end"
        )
    asked = {provider: sim for provider, sim in stack.simulators.items() if sim.account_urls()}
    if asked:
        every = f"polled every {options.poll_every:g} s" if options.poll_every > 0 else "not polled (--poll-every 0)"
        lines.append(f"  provider simulators ({every}):")
        lines += [f"    {provider:<10} {simulator.url}" for provider, simulator in asked.items()]
    calling = sorted(set(stack.simulators) - set(asked))
    if calling:  # the hub never asks these: their simulators only call back, or put events on the local bus
        lines.append(f"  simulated providers that only report in: {', '.join(calling)}")
    return lines


def emit(line: str) -> None:
    """One line on stdout, in one write: lines from several threads never run into each other."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = checked(cli, argv)
    # Set before anything starts. A background job of a non-interactive shell has SIGINT ignored
    # (SIG_IGN, which Python keeps): the stack stops on it all the same.
    done = threading.Event()
    for number in STOP_SIGNALS:
        signal.signal(number, lambda *_: done.set())
    stack = start_stack(cli, args, emit)
    try:
        for line in banner(stack, data_dir=args.data_dir is not None):
            emit(line)
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
