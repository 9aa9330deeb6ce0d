"""Starting the local stack: DynamoDB Local and moto server, the table from template.yaml, secrets, the HTTP API."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from dlrhub.adapters.secrets import secret_name
from dlrhub.providers.registry import provider_named
from dlrhub.services.stream import table_arn
from dlrhub_local import console, event_router
from dlrhub_local.api_docs import docs_pages
from dlrhub_local.callbacks import CallbackSettings, start_callback_delivery
from dlrhub_local.defaults import MONITOR_LAG, MONITOR_WINDOW
from dlrhub_local.demo import DEMO, Demo, demo_urls, start_simulators
from dlrhub_local.env_vars import write_env_vars
from dlrhub_local.feed import Feed, feed_entry, message_change
from dlrhub_local.gateway import Gateway, LambdaContext, OnRefused, load_handler
from dlrhub_local.lambda_service import LambdaService
from dlrhub_local.page import Pages
from dlrhub_local.polling import (
    POLLER,
    function_timeout,
    invocation_reporter,
    monitor_lines,
    poll_forever,
    run_every,
)
from dlrhub_local.processes import LOOPBACK, Server
from dlrhub_local.redact import mask_phone
from dlrhub_local.services import Given, Services, spawn_services
from dlrhub_local.simulators import SIMULATORS, SimulatorServer
from dlrhub_local.stream_reader import MappingSettings, Positions, StreamReader
from dlrhub_local.template import Function, Route, Template

REGION = "us-east-1"
#: The local stack's name: its table's prefix, and the functions' Powertools service (deployed: the stack's name).
STACK_NAME = "dlrhub-local"
TABLE_NAMES = {"MessagesTable": f"{STACK_NAME}-messages"}
PSEUDO_PARAMETERS = {"AWS::StackName": STACK_NAME, "AWS::Region": REGION}
STREAM = "StreamFunction"
REPORTER = "ReporterFunction"
API = "ApiFunction"


def resolve(value: Any, parameters: dict[str, Any]) -> str | None:
    """A template environment value: literals, !Ref to a parameter, a pseudo parameter or a table."""
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        if ref in parameters:
            return str(parameters[ref])
        return PSEUDO_PARAMETERS.get(ref) or TABLE_NAMES.get(ref)
    if isinstance(value, str | int | float):
        return str(value)
    return None


def function_environment(template: Template) -> dict[str, str]:
    parameters = template.parameter_defaults()
    env: dict[str, str] = {}
    for function in template.functions().values():
        for key, value in function.environment.items():
            resolved = resolve(value, parameters)
            if resolved is not None:
                env[key] = resolved
    return env


def create_tables(template: Template, dynamodb: Any) -> None:
    """Each table of the template, unless it is there already (data kept from an earlier run)."""
    for logical_id in template.table_logical_ids():
        try:
            dynamodb.describe_table(TableName=TABLE_NAMES[logical_id])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            dynamodb.create_table(**template.table_definition(logical_id, TABLE_NAMES[logical_id]))


def prepare_tables(services: Services, template: Template) -> Callable[[], bool]:
    """Create the tables on DynamoDB Local as soon as it listens, in a thread, while the functions load.
    The call returned waits for it: False when DynamoDB Local failed (the tables are then still to make,
    on moto server)."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["local"] = services.wait_ready()
            if outcome["local"]:
                create_tables(template, boto3.session.Session().client("dynamodb"))  # a session per thread
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=work, name="tables", daemon=True)
    thread.start()

    def done() -> bool:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return bool(outcome["local"])

    return done


def store_secrets(
    config: dict[str, Any], prefix: str, secretsmanager: Any, defaults: dict[str, dict[str, str]] | None = None
) -> None:
    """One secret per account; ``defaults`` (account -> keys) fills keys the file leaves out
    (the simulators' URLs, known only now): a URL the file gives is kept."""
    for name, account in config["accounts"].items():
        provider, _, account_name = name.partition("/")
        value = {**(defaults or {}).get(name, {}), **account}
        secretsmanager.create_secret(Name=secret_name(prefix, provider, account_name), SecretString=json.dumps(value))


def describe(value: dict[str, Any]) -> str:
    """One line for a stored report, from a message's plain values (numbers masked)."""
    dest = mask_phone(value.get("destination"))
    return (
        f"{value['provider']}/{value['account']} {value['message_id']}"
        f" -> {value.get('status')} (raw {value.get('raw_status')!r}, {value.get('source')})"
        + (f" to {dest}" if dest else "")
    )


def unknown_account(account: str, config_path: str) -> str:
    """The warning for a registration of an account the local configuration does not have."""
    return (
        f"WARNING: {account} is not an account of {config_path}: no provider report can reach it"
        f" (its callbacks get 403, the poller never asks), so the message stays PENDING; add the account there"
    )


def stream_line(
    old: dict[str, Any], new: dict[str, Any], known: Callable[[str], bool] = lambda _: True, config_path: str = ""
) -> str | None:
    """What a change of a message item means to a person watching: a report, a registration
    (with a warning when ``known`` says its account is not configured)."""
    change = message_change(old, new)
    if change is None:
        return None
    if change.kind == "stored":
        return f"stored      {describe(change.value)}"
    value = change.value
    account = f"{value['provider']}/{value['account']}"
    to = mask_phone(value.get("destination"))
    line = f"registered  {account} {value['message_id']} to {to}, status {value['status']}"
    return line if known(account) else f"{line}. {unknown_account(account, config_path)}"


def show_records(
    emit: Callable[[str], None],
    known: Callable[[str], bool] = lambda _: True,
    config_path: str = "",
    feed: Feed | None = None,
) -> Callable[[list[dict[str, Any]]], None]:
    """A line for each report stored and each registration, as the stream reader reads them (and an
    entry in the page's live feed)."""

    def show(records: list[dict[str, Any]]) -> None:
        for record in records:
            old, new = record["dynamodb"].get("OldImage") or {}, record["dynamodb"].get("NewImage") or {}
            line = stream_line(old, new, known, config_path)
            if line:
                emit(f"{console.clock()}  {line}")
            change = message_change(old, new) if feed is not None else None
            if feed is not None and change is not None:
                feed.publish(feed_entry(change))

    return show


def stream_reader(
    template: Template,
    handler: Callable[[dict, Any], Any],
    table_name: str,
    emit: Callable[[str], None],
    stop: threading.Event,
    parked: Path,
    positions: Path | None,
    known: Callable[[str], bool] = lambda _: True,
    config_path: str = "",
    feed: Feed | None = None,
) -> StreamReader:
    """The stream function's event source mapping, configured as in the template (stream_reader.py)."""
    timeout_ms = function_timeout(template, STREAM) * 1000

    def invoke(event: dict[str, Any]) -> Any:
        return handler(event, LambdaContext(STREAM, str(uuid.uuid4()), timeout_ms=timeout_ms, started=time.monotonic()))

    return StreamReader(
        streams=boto3.client("dynamodbstreams"),
        dynamodb=boto3.client("dynamodb"),
        table_name=table_name,
        settings=MappingSettings.from_template(template, STREAM),
        invoke=invoke,
        emit=emit,
        stop=stop,
        parked=parked,
        positions=Positions(positions),
        observe=show_records(emit, known, config_path, feed),
    )


def local_environment(
    template: Template,
    config: dict[str, Any],
    poll_accounts: list[str] | None,
    monitor_window: int,
    monitor_lag: int,
) -> dict[str, str]:
    """The functions' variables here: the template's, with the local stack's settings."""
    # The template's empty AWS_ENDPOINT_URL_* (there for `sam local invoke`) must not undo the services'.
    env = {k: v for k, v in function_environment(template).items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    env["POLL_ACCOUNTS"] = ",".join(config["accounts"] if poll_accounts is None else poll_accounts)
    env["MONITOR_WINDOW_MINUTES"], env["MONITOR_LAG_MINUTES"] = str(monitor_window), str(monitor_lag)
    env["EVENTS_ACCOUNT"] = DEMO  # events on the local bus belong to the demo account
    return env


def console_log_level(*, json_logs: bool, verbose: bool) -> str:
    """In words, the console tells duplicates, which the functions log at DEBUG (and drops what it does not
    tell); raw JSON lines: warnings and errors, INFO too when verbose."""
    if not json_logs:
        return "DEBUG"
    return "INFO" if verbose else "WARNING"


def tell_refusals(short_names: dict[str, str], emit: Callable[[str], None]) -> OnRefused:
    """The gateway's line for each request a function refused."""

    def tell(route: Route, method: str, params: dict[str, str], status: int, body: bytes) -> None:
        name = short_names.get(route.function, route.function)
        emit(console.refused_line(name, method, console.shown_path(route.path, params), status, body))

    return tell


def handled_as(function: str, handler: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
    """``handler``, its log lines told as ``function``'s (console.invoking)."""

    def run(event: dict, context: Any) -> Any:
        with console.invoking(function):
            return handler(event, context)

    return run


def load_handlers(functions: dict[str, Function]) -> dict[str, Callable[[dict, Any], Any]]:
    return {name: handled_as(name, load_handler(function)) for name, function in functions.items()}


def registration_example(gateway_url: str, message_id: str, destination: str, ref: str) -> str:
    """``curl`` registering one message with the customer API, as the README shows it."""
    body = {
        "messages": [
            {
                "provider": "infin8linx",
                "account": DEMO,
                "message_id": message_id,
                "destination": destination,
                "submitted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "customer_ref": ref,
            }
        ]
    }
    return f"curl -X POST '{gateway_url}/messages' -H 'content-type: application/json' -d '{json.dumps(body)}'"


#: The message of the customer API examples: the one the Infin8linx callback example reports on.
EXAMPLE_MESSAGE, EXAMPLE_DESTINATION, EXAMPLE_REF = "36160109669", "628131565746", "order-1001"


@dataclass
class LocalStack:
    services: Services
    gateway_url: str
    config: dict[str, Any]
    env: dict[str, str]
    stop_event: threading.Event
    threads: list[threading.Thread]
    http: Any
    iam_routes: list[str]
    simulators: dict[str, SimulatorServer] = field(default_factory=dict)
    poll_every: float = 0.0
    emit: Callable[[str], None] = print
    stream: StreamReader | None = None
    lambda_api: LambdaService | None = None
    #: The env-vars file for ``sam local invoke --env-vars`` and ``make invoke``, written for this run.
    env_vars: Path | None = None
    #: Whether the /docs page has Swagger UI to show (else it says how to install it).
    swagger_ui: bool = False
    #: The page's live feed (/local/feed): what the stream shows, as entries.
    feed: Feed = field(default_factory=Feed)

    @property
    def moto(self) -> Server | Given:
        return self.services.moto

    @property
    def docs_url(self) -> str:
        return f"{self.gateway_url}/docs"

    @property
    def openapi_url(self) -> str:
        return f"{self.gateway_url}/openapi.json"

    def webhook_url(self, provider: str, account: str = "demo") -> str:
        secret = self.config["accounts"][f"{provider}/{account}"]["webhook_secret"]
        return f"{self.gateway_url}/webhooks/{provider}/{account}/{secret}"

    def examples(self) -> list[tuple[str, str]]:
        """(what, command) for the customer API, each demo account that takes callbacks, and reading back."""
        found = [
            (
                "register a message you sent (customer API; SigV4-signed when deployed, open here)",
                registration_example(self.gateway_url, EXAMPLE_MESSAGE, EXAMPLE_DESTINATION, EXAMPLE_REF),
            )
        ]
        for provider, simulator in SIMULATORS.items():
            keys = self.config["accounts"].get(f"{provider}/demo")
            known = provider_named(provider)
            if keys is None or known is None:
                continue
            url = self.webhook_url(provider) if known.webhook and "webhook_secret" in keys else ""
            example = simulator.example(url, keys) if url or known.webhook is None else None
            if example is not None:
                found.append(example)
        found.append(("read a message back", f"curl '{self.gateway_url}/messages/infin8linx/demo/{EXAMPLE_MESSAGE}'"))
        found.append(("the messages of a customer reference", f"curl '{self.gateway_url}/refs/{EXAMPLE_REF}/messages'"))
        return found

    def start_demo(self) -> None:
        """Demo traffic in the background: registrations now, then callbacks and polls (see demo.py)."""
        demo = Demo(
            self.gateway_url, self.config["accounts"], self.simulators, self.webhook_url, self.emit, self.stop_event
        )
        thread = threading.Thread(target=demo.run, name="demo", daemon=True)
        self.threads.append(thread)
        thread.start()

    def shutdown(self) -> None:
        self.stop_event.set()
        self.feed.close()
        self.http.shutdown()
        self.http.server_close()
        for thread in self.threads:
            thread.join(5)
        if self.lambda_api is not None:
            self.lambda_api.stop()
        for simulator in self.simulators.values():
            simulator.stop()
        self.services.stop()
        if self.env_vars is not None:
            self.env_vars.unlink(missing_ok=True)  # its endpoints are gone: make invoke must not use them


def start(  # noqa: PLR0915 - every part of the stack started in order
    template_path: Path,
    config: dict[str, Any],
    port: int,
    emit: Callable[[str], None],
    *,
    verbose: bool = False,
    json_logs: bool = False,
    poll_every: float = 0.0,
    report_every: float = 0.0,
    poll_accounts: list[str] | None = None,
    monitor_window: int = MONITOR_WINDOW,
    monitor_lag: int = MONITOR_LAG,
    dynamodb: str = "local",
    data_dir: Path | None = None,
    state_dir: Path | None = None,
    services: Services | None = None,
    callback: CallbackSettings | None = None,
    config_path: str = ".dlrhub-local.json",
) -> LocalStack:
    """DynamoDB Local and moto server, the table, the secrets, the provider simulators, the HTTP API,
    the stream reader, and (when ``poll_every`` > 0) the poller function every ``poll_every`` seconds.

    ``poll_accounts`` (default: every account of ``config``) are the poller's and the reporter's;
    ``dynamodb="moto"`` puts the table on moto server; ``data_dir`` keeps DynamoDB Local's data (and the
    stream reader's position) between runs; ``state_dir`` holds the parked stream batches, logs and the
    env-vars file. ``services``: already started (``spawn_services``), else started here with those three.
    The functions' log lines are told in words (console.py) unless ``json_logs``; ``verbose``: their
    INFO lines too."""
    template = Template(template_path)
    state = state_dir or template.root / ".dlrhub-local"
    services = services or spawn_services(dynamodb=dynamodb, data_dir=data_dir, log_dir=state)
    simulators: dict[str, SimulatorServer] = {}
    try:
        simulators = start_simulators(config["accounts"])
        os.environ.update(services.environment())  # the ports are known: the functions load while the JVM starts
        env = local_environment(template, config, poll_accounts, monitor_window, monitor_lag)
        deployed_level = env.get("POWERTOOLS_LOG_LEVEL", "INFO")
        env["POWERTOOLS_LOG_LEVEL"] = console_log_level(json_logs=json_logs, verbose=verbose)
        os.environ.update(env)
        # Powertools warns when a handler added no metric (metrics are off here): noise on the console.
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
        tables_made = prepare_tables(services, template)
        functions = template.functions()
        short_names = {name: function.short_name for name, function in functions.items()}
        handlers = load_handlers(functions)
        if not json_logs:  # the functions' logger exists now; loaded again below, it is the same logger
            console.attach(env["POWERTOOLS_SERVICE_NAME"], emit, short_names, verbose=verbose)
        services.moto.wait_ready()
        prefix = env.get("SECRETS_PREFIX", "dlrhub")
        store_secrets(config, prefix, boto3.client("secretsmanager"), demo_urls(simulators))
        if not tables_made():  # DynamoDB Local failed: the table is on moto, the clients must be anew
            os.environ.update(services.environment())
            handlers = load_handlers(functions)
            create_tables(template, boto3.client("dynamodb"))
        pages, swagger_ui = docs_pages()
        feed = Feed()
        gateway = Gateway(
            template.http_routes(),
            handlers,
            pages=pages,
            on_refused=tell_refusals(short_names, emit),
            local_pages=Pages(feed).serve,
        )
        http = gateway.serve(LOOPBACK, port)
        stop = threading.Event()
        threads = [threading.Thread(target=http.serve_forever, name="http", daemon=True)]
        reader = None
        if STREAM in handlers:
            positions = services.data_dir / "stream-positions.json" if services.data_dir else None
            known = config["accounts"].__contains__
            parked = state / "parked-batches.jsonl"
            reader = stream_reader(
                template, handlers[STREAM], env["TABLE_NAME"], emit, stop, parked, positions, known, config_path, feed
            )
            threads.append(threading.Thread(target=reader.run, name="stream", daemon=True))
        routes = event_router.create_rules(template.event_rules(), boto3.client("events"), boto3.client("sqs"))
        args = (routes, handlers, boto3.client("sqs"), emit, stop)
        threads.append(threading.Thread(target=event_router.route, args=args, name="events", daemon=True))
        if callback is not None:
            stream_arn = boto3.client("dynamodb").describe_table(TableName=env["TABLE_NAME"])["Table"][
                "LatestStreamArn"
            ]
            start_callback_delivery(
                callback.url,
                callback.auth,
                callback.final_only,
                emit,
                stop,
                bus_name=env.get("EVENT_BUS_NAME") or "default",
                table_arn=table_arn(stream_arn),
            )
        # Lambda's Invoke API for the poller's fan-out (one asynchronous invocation per account)
        lambda_api = LambdaService(
            {POLLER: handlers[POLLER]} if POLLER in handlers else {},
            {POLLER: function_timeout(template)} if POLLER in handlers else {},
            on_result=invocation_reporter(emit),
        ).start()
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = lambda_api.endpoint
        endpoints = {**services.environment(), "AWS_ENDPOINT_URL_LAMBDA": lambda_api.endpoint}
        env_vars = write_env_vars(
            state / "env-vars.json", template, {**env, "POWERTOOLS_LOG_LEVEL": deployed_level}, endpoints
        )
        if poll_every > 0 and POLLER in handlers:
            args = (handlers[POLLER], poll_every, function_timeout(template), emit, stop)
            threads.append(threading.Thread(target=poll_forever, args=args, name="poller", daemon=True))
        if report_every > 0 and REPORTER in handlers:
            args = (handlers[REPORTER], REPORTER, report_every, function_timeout(template, REPORTER), monitor_lines)
            threads.append(threading.Thread(target=run_every, args=(*args, emit, stop), name="reporter", daemon=True))
        for thread in threads:
            thread.start()
    except BaseException:
        for simulator in simulators.values():
            simulator.stop()
        services.stop()
        raise
    url = f"http://{LOOPBACK}:{http.server_address[1]}"
    iam_routes = [route.key for route in template.http_routes() if route.authorization == "AWS_IAM"]
    return LocalStack(
        services,
        url,
        config,
        env,
        stop,
        threads,
        http,
        iam_routes,
        simulators,
        poll_every,
        emit,
        reader,
        lambda_api,
        env_vars,
        swagger_ui,
        feed,
    )
