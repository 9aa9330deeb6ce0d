"""Starting the local stack on DynamoDB Local and moto server: the table from template.yaml, the secrets, the
provider simulators, the HTTP API, and the functions' event sources (stream, rules, schedules), phase by phase."""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future
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
from dlrhub_local.defaults import MONITOR_LAG, MONITOR_WINDOW, PORT
from dlrhub_local.demo import DEMO, Demo, demo_account_name, registration
from dlrhub_local.env_vars import write_env_vars
from dlrhub_local.feed import Feed, feed_entry, message_change
from dlrhub_local.gateway import Gateway, LambdaContext, load_handler
from dlrhub_local.lambda_service import LambdaService
from dlrhub_local.loopback_http import LoopbackServer
from dlrhub_local.page import Pages
from dlrhub_local.polling import POLLER, invocation_reporter, monitor_lines, poll_lines, run_every
from dlrhub_local.processes import LOOPBACK
from dlrhub_local.services import Services
from dlrhub_local.simulators import SIMULATORS, SimulatorServer
from dlrhub_local.stream_reader import MappingSettings, Positions, Record, StreamReader
from dlrhub_local.template import Function, Route, Template

REGION = "us-east-1"
#: The local stack's name: its table's prefix, and the functions' Powertools service (deployed: the stack's name).
STACK_NAME = "dlrhub-local"
TABLE_NAMES = {"MessagesTable": f"{STACK_NAME}-messages"}
PSEUDO_PARAMETERS = {"AWS::StackName": STACK_NAME, "AWS::Region": REGION}
STREAM = "StreamFunction"
REPORTER = "ReporterFunction"
Handler = Callable[[dict, Any], Any]


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


def prepare_tables(services: Services, template: Template) -> Future[bool]:
    """Create the tables on DynamoDB Local as soon as it listens, in a thread, while the functions load.
    The result: False when DynamoDB Local failed (the tables are then still to make, on moto server)."""
    outcome: Future[bool] = Future()

    def work() -> None:
        try:
            local = services.wait_ready()
            if local:
                create_tables(template, boto3.session.Session().client("dynamodb"))  # a session per thread
            outcome.set_result(local)
        except BaseException as error:
            outcome.set_exception(error)

    threading.Thread(target=work, name="tables", daemon=True).start()
    return outcome


def store_secrets(
    config: dict[str, Any], prefix: str, secretsmanager: Any, defaults: dict[str, dict[str, str]] | None = None
) -> None:
    """One secret per account; ``defaults`` (account -> keys) fills keys the file leaves out
    (the simulators' URLs, known only now): a URL the file gives is kept."""
    for name, account in config["accounts"].items():
        provider, _, account_name = name.partition("/")
        value = {**(defaults or {}).get(name, {}), **account}
        secretsmanager.create_secret(Name=secret_name(prefix, provider, account_name), SecretString=json.dumps(value))


def local_environment(template: Template, config: dict[str, Any], options: Options) -> dict[str, str]:
    """The functions' variables here: the template's, with the local stack's settings."""
    # The template's empty AWS_ENDPOINT_URL_* (there for `sam local invoke`) must not undo the services'.
    env = {k: v for k, v in function_environment(template).items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    env["POLL_ACCOUNTS"] = ",".join(config["accounts"] if options.poll_accounts is None else options.poll_accounts)
    env["MONITOR_WINDOW_MINUTES"], env["MONITOR_LAG_MINUTES"] = str(options.monitor_window), str(options.monitor_lag)
    env["EVENTS_ACCOUNT"] = DEMO  # events on the local bus belong to the demo account
    return env


def handled_as(function: str, handler: Handler) -> Handler:
    """``handler``, its log lines told as ``function``'s (console.invoking)."""

    def run(event: dict, context: Any) -> Any:
        with console.invoking(function):
            return handler(event, context)

    return run


def load_handlers(functions: dict[str, Function]) -> dict[str, Handler]:
    return {name: handled_as(name, load_handler(function)) for name, function in functions.items()}


def registration_example(gateway_url: str) -> str:
    """``curl`` registering the message of the examples with the customer API, as the README shows it."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"messages": [registration("infin8linx", EXAMPLE_MESSAGE, EXAMPLE_DESTINATION, now, EXAMPLE_REF)]}
    return f"curl -X POST '{gateway_url}/messages' -H 'content-type: application/json' -d '{json.dumps(body)}'"


#: The message of the customer API examples: the one the Infin8linx callback example reports on.
EXAMPLE_MESSAGE, EXAMPLE_DESTINATION, EXAMPLE_REF = "36160109669", "628131565746", "order-1001"
REGISTER = "register a message you sent (customer API; SigV4-signed when deployed, open here)"


@dataclass(frozen=True)
class Options:
    """What ``make run``'s options set (the deployed stack's template parameters, mostly)."""

    port: int = PORT
    verbose: bool = False
    #: The functions' log lines as they are (Powertools JSON), not in words.
    json_logs: bool = False
    #: Seconds between runs of the poller, of the monitor reporter (0: never).
    poll_every: float = 0.0
    report_every: float = 0.0
    #: The accounts the poller and the reporter work on (None: every account of the config).
    poll_accounts: list[str] | None = None
    monitor_window: int = MONITOR_WINDOW
    monitor_lag: int = MONITOR_LAG
    #: The parked stream batches, DynamoDB Local's log and the env-vars file (None: .dlrhub-local beside the template).
    state_dir: Path | None = None
    config_path: str = ".dlrhub-local.json"
    callback: CallbackSettings | None = None


@dataclass
class LocalStack:
    """The running stack: :func:`start` makes it, in phases (the methods named after what they start)."""

    template: Template
    config: dict[str, Any]
    emit: Callable[[str], None]
    options: Options
    services: Services
    simulators: dict[str, SimulatorServer] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    http: LoopbackServer | None = None
    stream: StreamReader | None = None
    lambda_api: LambdaService | None = None
    #: The env-vars file for ``sam local invoke --env-vars`` and ``make invoke``, written for this run.
    env_vars: Path | None = None
    #: Whether the /docs page has Swagger UI to show (else it says how to install it).
    swagger_ui: bool = False
    #: The page's live feed (/local/feed): what the stream shows, as entries.
    feed: Feed = field(default_factory=Feed)
    stop_event: threading.Event = field(default_factory=threading.Event)
    #: The background threads, started once every part is in place.
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.options.state_dir or self.template.root / ".dlrhub-local"

    @property
    def gateway_url(self) -> str:
        assert self.http is not None, "not started"
        return f"http://{LOOPBACK}:{self.http.server_address[1]}"

    @property
    def short_names(self) -> dict[str, str]:
        return {name: function.short_name for name, function in self.functions.items()}

    @property
    def iam_routes(self) -> list[str]:
        return [route.key for route in self.template.http_routes() if route.authorization == "AWS_IAM"]

    def webhook_url(self, provider: str, account: str = "demo") -> str:
        secret = self.config["accounts"][f"{provider}/{account}"]["webhook_secret"]
        return f"{self.gateway_url}/webhooks/{provider}/{account}/{secret}"

    # -- starting, phase by phase ----------------------------------------------------------

    def start(self) -> LocalStack:
        """Every part, in order; whatever started is stopped again when one fails."""
        try:
            self.start_simulators()
            deployed_level = self.set_environment()
            self.load_functions()
            self.serve_http()
            self.read_stream()
            self.route_events()
            self.deliver_callbacks()
            self.serve_lambda_api(deployed_level)
            self.schedule()
            for thread in self.threads:
                thread.start()
        except BaseException:
            self.shutdown()
            raise
        return self

    def start_simulators(self) -> None:
        """A simulator for each ``{provider}/demo`` account with keys its simulator can serve (SIMULATORS)."""
        for provider, simulator_class in SIMULATORS.items():
            keys = self.config["accounts"].get(demo_account_name(provider))
            simulator = simulator_class.for_account(keys) if keys is not None else None
            if simulator is not None:
                self.simulators[provider] = simulator.start()

    def set_environment(self) -> str:
        """The services' endpoints and the functions' variables, in this process; the template's log level."""
        os.environ.update(self.services.environment())  # the ports are known: the functions load while the JVM starts
        self.env = local_environment(self.template, self.config, self.options)
        deployed_level = self.env.get("POWERTOOLS_LOG_LEVEL", "INFO")
        # In words, the console tells duplicates, which the functions log at DEBUG (and drops what it does not
        # tell); raw JSON lines: warnings and errors, INFO too when verbose.
        raw_level = "INFO" if self.options.verbose else "WARNING"
        self.env["POWERTOOLS_LOG_LEVEL"] = raw_level if self.options.json_logs else "DEBUG"
        os.environ.update(self.env)
        # Powertools warns when a handler added no metric (metrics are off here): noise on the console.
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
        return deployed_level

    def load_functions(self) -> None:
        """The functions' code, told in words, while the tables are made; the account secrets stored."""
        tables_made = prepare_tables(self.services, self.template)
        self.functions = self.template.functions()
        self.handlers = load_handlers(self.functions)
        if not self.options.json_logs:  # the functions' logger exists now; loaded again below, it is the same logger
            console.attach(
                self.env["POWERTOOLS_SERVICE_NAME"], self.emit, self.short_names, verbose=self.options.verbose
            )
        self.services.moto.wait_ready()
        prefix = self.env.get("SECRETS_PREFIX", "dlrhub")
        urls = {demo_account_name(provider): sim.account_urls() for provider, sim in self.simulators.items()}
        store_secrets(self.config, prefix, boto3.client("secretsmanager"), urls)
        if not tables_made.result():  # DynamoDB Local failed: the table is on moto, the clients must be anew
            os.environ.update(self.services.environment())
            self.handlers = load_handlers(self.functions)
            create_tables(self.template, boto3.client("dynamodb"))

    def serve_http(self) -> None:
        """The template's HTTP API routes, the page and the API's docs, on loopback (served once all is started)."""
        fixed, self.swagger_ui = docs_pages()
        pages = Pages(self.feed, fixed=fixed)
        gateway = Gateway(
            self.template.http_routes(), self.handlers, on_refused=self.tell_refused, local_pages=pages.serve
        )
        self.http = gateway.serve(LOOPBACK, self.options.port)
        self.threads.append(threading.Thread(target=self.http.serve_forever, name="http", daemon=True))

    def tell_refused(self, route: Route, method: str, params: dict[str, str], status: int, body: bytes) -> None:
        name = self.short_names.get(route.function, route.function)
        self.emit(console.refused_line(name, method, console.shown_path(route.path, params), status, body))

    def read_stream(self) -> None:
        """The stream function's event source mapping, configured as in the template (stream_reader.py)."""
        if STREAM not in self.handlers:
            return
        handler, timeout_ms = self.handlers[STREAM], self.functions[STREAM].timeout * 1000
        data_dir = self.services.data_dir
        self.stream = StreamReader(
            streams=boto3.client("dynamodbstreams"),
            dynamodb=boto3.client("dynamodb"),
            table_name=self.env["TABLE_NAME"],
            settings=MappingSettings.from_template(self.template, STREAM),
            invoke=lambda event: handler(event, LambdaContext(STREAM, timeout_ms=timeout_ms)),
            emit=self.emit,
            stop=self.stop_event,
            parked=self.state_dir / "parked-batches.jsonl",
            positions=Positions(data_dir / "stream-positions.json" if data_dir else None),
            observe=self.show_records,
        )
        self.threads.append(threading.Thread(target=self.stream.run, name="stream", daemon=True))

    def show_records(self, records: list[Record]) -> None:
        """A line for each report stored and each registration the stream reader reads, and an entry in
        the page's live feed."""
        for record in records:
            images = record["dynamodb"]
            change = message_change(images.get("OldImage") or {}, images.get("NewImage") or {})
            if change is not None:
                self.emit(console.change_line(change, self.config["accounts"].__contains__, self.options.config_path))
                self.feed.publish(feed_entry(change))

    def route_events(self) -> None:
        """The template's EventBridge rules on moto's bus, their events handed to the functions."""
        routes = event_router.create_rules(self.template.event_rules(), boto3.client("events"), boto3.client("sqs"))
        args = (routes, self.handlers, boto3.client("sqs"), self.emit, self.stop_event)
        self.threads.append(threading.Thread(target=event_router.route, args=args, name="events", daemon=True))

    def deliver_callbacks(self) -> None:
        """``--callback-url``: the deployed callback rule's events POSTed to it (callbacks.py)."""
        callback = self.options.callback
        if callback is None:
            return
        table = boto3.client("dynamodb").describe_table(TableName=self.env["TABLE_NAME"])["Table"]
        bus = self.env.get("EVENT_BUS_NAME") or "default"
        args = (callback.url, callback.auth, callback.final_only, self.emit, self.stop_event)
        start_callback_delivery(*args, bus_name=bus, table_arn=table_arn(table["LatestStreamArn"]))

    def serve_lambda_api(self, deployed_level: str) -> None:
        """Lambda's Invoke API for the poller's fan-out (one asynchronous invocation per account), and the
        env-vars file that points ``make invoke`` at this run's endpoints."""
        poller = {POLLER: self.handlers[POLLER]} if POLLER in self.handlers else {}
        timeouts = {name: self.functions[name].timeout for name in poller}
        self.lambda_api = LambdaService(poller, timeouts, on_result=invocation_reporter(self.emit)).start()
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.lambda_api.endpoint
        endpoints = {**self.services.environment(), "AWS_ENDPOINT_URL_LAMBDA": self.lambda_api.endpoint}
        values = {**self.env, "POWERTOOLS_LOG_LEVEL": deployed_level}
        self.env_vars = write_env_vars(self.state_dir / "env-vars.json", self.template, values, endpoints)

    def schedule(self) -> None:
        """The poller and the monitor reporter, each on its schedule (polling.py)."""
        for name, every, report in (
            (POLLER, self.options.poll_every, poll_lines),
            (REPORTER, self.options.report_every, monitor_lines),
        ):
            if every > 0 and name in self.handlers:
                function = self.functions[name]
                args = (self.handlers[name], name, every, function.timeout, report, self.emit, self.stop_event)
                self.threads.append(threading.Thread(target=run_every, args=args, name=name, daemon=True))

    # -- running ---------------------------------------------------------------------------

    def examples(self) -> list[tuple[str, str]]:
        """(what, command) for the customer API, each demo account that takes callbacks, and reading back."""
        found = [(REGISTER, registration_example(self.gateway_url))]
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
        accounts = self.config["accounts"]
        demo = Demo(self.gateway_url, accounts, self.simulators, self.webhook_url, self.emit, self.stop_event)
        thread = threading.Thread(target=demo.run, name="demo", daemon=True)
        self.threads.append(thread)
        thread.start()

    def shutdown(self) -> None:
        """Everything stopped, whatever was started (a start that failed half-way calls it too)."""
        self.stop_event.set()
        self.feed.close()
        if self.http is not None:
            self.http.stop()
        for thread in self.threads:
            if thread.is_alive():
                thread.join(5)
        if self.lambda_api is not None:
            self.lambda_api.stop()
        for simulator in self.simulators.values():
            simulator.stop()
        self.services.stop()
        if self.env_vars is not None:
            self.env_vars.unlink(missing_ok=True)  # its endpoints are gone: make invoke must not use them


def start(
    template_path: Path, config: dict[str, Any], emit: Callable[[str], None], options: Options, services: Services
) -> LocalStack:
    """The local stack on the services given (started by ``spawn_services``): the table, the secrets, the
    provider simulators, the HTTP API, the stream reader, the event router, the customer callbacks, the
    Lambda API and the schedules (:class:`LocalStack`'s phases, in this order). The functions' log lines
    are told in words (console.py) unless ``options.json_logs``."""
    return LocalStack(Template(template_path), config, emit, options, services).start()
