"""Starting the local stack: moto server, the table from template.yaml, secrets, the HTTP API."""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from dlrhub.accounts import secret_name
from dlrhub.providers import provider_named
from dlrhub.redact import mask_phone
from dlrhub.table import MESSAGE_SK, read_image
from dlrhub_local import event_router
from dlrhub_local.demo import DEMO, Demo, demo_urls, start_simulators
from dlrhub_local.gateway import Gateway, LambdaContext, load_handler
from dlrhub_local.polling import POLLER, function_timeout, monitor_lines, poll_forever, run_every
from dlrhub_local.processes import LOOPBACK, Server, start_moto
from dlrhub_local.simulators import SIMULATORS, SimulatorServer
from dlrhub_local.template import Template

REGION = "us-east-1"
TABLE_NAMES = {"MessagesTable": "dlrhub-local-messages"}
STREAM = "StreamFunction"
REPORTER = "ReporterFunction"
#: The local demo reports 5-minute windows one minute after they end, so reports come soon.
LOCAL_MONITOR = {"MONITOR_WINDOW_MINUTES": "5", "MONITOR_LAG_MINUTES": "1"}


def aws_environment(endpoint: str) -> dict[str, str]:
    """Point every AWS SDK call of this process at the local endpoint, with dummy keys."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def resolve(value: Any, parameters: dict[str, Any]) -> str | None:
    """A template environment value: literals, !Ref to a parameter or a table."""
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        if ref in parameters:
            return str(parameters[ref])
        return TABLE_NAMES.get(ref)
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
    for logical_id in template.table_logical_ids():
        dynamodb.create_table(**template.table_definition(logical_id, TABLE_NAMES[logical_id]))


def store_secrets(
    config: dict[str, Any], prefix: str, secretsmanager: Any, defaults: dict[str, dict[str, str]] | None = None
) -> None:
    """One secret per account; ``defaults`` (account -> keys) fills keys the file leaves out
    (the simulators' URLs, known only now): a URL the file gives is kept."""
    for name, account in config["accounts"].items():
        provider, _, account_name = name.partition("/")
        value = {**(defaults or {}).get(name, {}), **account}
        secretsmanager.create_secret(Name=secret_name(prefix, provider, account_name), SecretString=json.dumps(value))


def describe(image: dict[str, Any]) -> str:
    """One line for a stored report, from a stream record's new image (numbers masked)."""
    value = read_image(image)
    dest = mask_phone(value.get("destination"))
    return (
        f"{value['provider']}/{value['account']} {value['message_id']}"
        f" -> {value.get('status')} (raw {value.get('raw_status')!r}, {value.get('source')})"
        + (f" to {dest}" if dest else "")
    )


def stream_line(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """What a change of a message item means to a person watching: a report, a registration."""
    if new.get("sk", {}).get("S") != MESSAGE_SK or "status" not in new:
        return None
    if len(new.get("history", {}).get("L", [])) > len(old.get("history", {}).get("L", [])):
        return f"stored      {describe(new)}"
    if "registered_at" in new and "registered_at" not in old:
        value = read_image(new)
        return (
            f"registered  {value['provider']}/{value['account']} {value['message_id']}"
            f" to {mask_phone(value.get('destination'))}, status {value['status']}"
        )
    return None


def watch_stream(
    table_name: str,
    emit: Callable[[str], None],
    stop: threading.Event,
    stream_handler: Callable[[dict, Any], dict] | None = None,
) -> None:
    """Print a line for each report stored, read from the table's stream; and hand each batch
    to the stream function as Lambda would (with its shard named, as a tumbling window does),
    in a thread of its own so that the lines never wait for the function."""
    batches: queue.Queue[list[dict[str, Any]]] = queue.Queue()
    if stream_handler is not None:
        threading.Thread(
            target=_run_stream_function, args=(stream_handler, table_name, batches, emit, stop), daemon=True
        ).start()
    dynamodb = boto3.client("dynamodb")
    streams = boto3.client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    # From the start: the table is new with the stack, and nothing stored before the watch begins is missed.
    start = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    iterator = start["ShardIterator"]
    while not stop.is_set() and iterator:
        reply = streams.get_records(ShardIterator=iterator, Limit=STREAM_BATCH)
        for record in reply.get("Records", []):
            line = stream_line(record["dynamodb"].get("OldImage") or {}, record["dynamodb"].get("NewImage") or {})
            if line:
                emit(f"{time.strftime('%H:%M:%S')}  {line}")
        if reply.get("Records") and stream_handler is not None:
            batches.put([{**record, "eventSourceARN": arn, "shard": shard} for record in reply["Records"]])
        iterator = reply.get("NextShardIterator")
        stop.wait(0.3)


STREAM_BATCH = 50  # the template's BatchSize


def _run_stream_function(
    handler: Callable[[dict, Any], dict],
    table_name: str,
    batches: queue.Queue[list[dict[str, Any]]],
    emit: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """The stream function's event source: one batch at a time, in order, as Lambda does per shard."""
    while not stop.is_set():
        try:
            records = batches.get(timeout=0.3)
        except queue.Empty:
            continue
        arn, shard = records[0]["eventSourceARN"], records[0].pop("shard")
        for record in records[1:]:
            record.pop("shard", None)
        feed_stream_function(handler, arn, shard, records, emit)


def feed_stream_function(
    handler: Callable[[dict, Any], dict],
    arn: str,
    shard: str,
    records: list[dict[str, Any]],
    emit: Callable[[str], None],
) -> None:
    for record in records:
        record.setdefault("eventSourceARN", arn)
        record["dynamodb"].pop("ApproximateCreationDateTime", None)  # a datetime from boto3; Lambda sends a number
    event = {"Records": records, "shardId": shard, "eventSourceARN": arn, "state": {}, "isFinalInvokeForWindow": False}
    try:
        handler(event, LambdaContext(STREAM, str(uuid.uuid4()), timeout_ms=60_000, started=time.monotonic()))
    except Exception:
        emit(f"{time.strftime('%H:%M:%S')}  {STREAM} failed:\n{traceback.format_exc()}")


@dataclass
class LocalStack:
    moto: Server
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

    def webhook_url(self, provider: str, account: str = "demo") -> str:
        secret = self.config["accounts"][f"{provider}/{account}"]["webhook_secret"]
        return f"{self.gateway_url}/webhooks/{provider}/{account}/{secret}"

    def examples(self) -> list[tuple[str, str]]:
        """(what, curl command) for each demo account that takes callbacks, and the customer API."""
        found = []
        for provider, simulator in SIMULATORS.items():
            keys = self.config["accounts"].get(f"{provider}/demo")
            known = provider_named(provider)
            if keys is None or known is None:
                continue
            url = self.webhook_url(provider) if known.webhook and "webhook_secret" in keys else ""
            example = simulator.example(url, keys) if url or known.webhook is None else None
            if example is not None:
                found.append(example)
        found.append(("read a message back", f"curl '{self.gateway_url}/messages/infin8linx/demo/36160109669'"))
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
        self.http.shutdown()
        self.http.server_close()
        for thread in self.threads:
            thread.join(5)
        for simulator in self.simulators.values():
            simulator.stop()
        self.moto.stop()


def start(
    template_path: Path,
    config: dict[str, Any],
    port: int,
    emit: Callable[[str], None],
    *,
    verbose: bool = False,
    poll_every: float = 0.0,
    report_every: float = 0.0,
) -> LocalStack:
    """moto server, the table, the secrets, the provider simulators, the HTTP API, and (when
    ``poll_every`` > 0) the poller function every ``poll_every`` seconds."""
    template = Template(template_path)
    moto = start_moto()
    simulators: dict[str, SimulatorServer] = {}
    try:
        simulators = start_simulators(config["accounts"])
        os.environ.update(aws_environment(moto.endpoint))
        env = function_environment(template)
        env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        env["POLL_ACCOUNTS"] = ",".join(config["accounts"])  # every account, as the template advises
        env.update(LOCAL_MONITOR)
        env["EVENTS_ACCOUNT"] = DEMO  # events on the local bus belong to the demo account
        if not verbose:  # the functions' own JSON logs: warnings and errors only
            env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        os.environ.update(env)
        create_tables(template, boto3.client("dynamodb"))
        prefix = env.get("SECRETS_PREFIX", "dlrhub")
        store_secrets(config, prefix, boto3.client("secretsmanager"), demo_urls(simulators))
        handlers = {name: load_handler(function) for name, function in template.functions().items()}
        gateway = Gateway(template.http_routes(), handlers)
        http = gateway.serve(LOOPBACK, port)
        stop = threading.Event()
        threads = [
            threading.Thread(target=http.serve_forever, name="http", daemon=True),
            threading.Thread(
                target=watch_stream,
                args=(env["TABLE_NAME"], emit, stop, handlers.get(STREAM)),
                name="stream",
                daemon=True,
            ),
        ]
        routes = event_router.create_rules(template.event_rules(), boto3.client("events"), boto3.client("sqs"))
        args = (routes, handlers, boto3.client("sqs"), emit, stop)
        threads.append(threading.Thread(target=event_router.route, args=args, name="events", daemon=True))
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
        moto.stop()
        raise
    url = f"http://{LOOPBACK}:{http.server_address[1]}"
    iam_routes = [route.key for route in template.http_routes() if route.authorization == "AWS_IAM"]
    return LocalStack(moto, url, config, env, stop, threads, http, iam_routes, simulators, poll_every, emit)
