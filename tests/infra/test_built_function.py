"""The artifacts of ``sam build``, run as Lambda runs them.

``sam build`` builds the layer and the functions for the host (architecture and Python);
the built webhook and API functions then answer each of their sample events through the
Lambda Runtime Interface Emulator that ships inside aws-sam-cli. The interpreter runs with ``-S``: only
the built function, the built layer and a shim standing for the Lambda Python runtime
(boto3, awslambdaric) are importable, never the test environment's site-packages. The build,
the shim and the RIE are make invoke's (dlrhub_local.invoke): one place for both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from dlrhub.table.counters import StatsStore
from dlrhub_local import config as local_config
from dlrhub_local import invoke
from dlrhub_local.env_vars import document, read_env_vars
from dlrhub_local.processes import Server
from dlrhub_local.stack import function_environment
from dlrhub_local.template import Template
from tests.api_support import API_EVENTS, check_api_sample, split_key
from tests.stack_process import StackProcess, local_stack, require_dynamodb_local
from tests.support import (
    DUMMY_AWS,
    EVENT_SAMPLES,
    EVENTS,
    EVENTS_ACCOUNT,
    ROOT,
    SAMPLES,
    TEMPLATE,
    check_event_sample,
    check_sample_reply,
    create_table,
    load_event,
    put_sample_accounts,
    read_item,
    unique_name,
)

ACCOUNT = "demo"
TARGET_NATIVE = "pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so"


def directory_mb(path: Path) -> float:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file()) / 1024 / 1024


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host_build() -> Path:
    """make invoke's build for this machine (.aws-sam/host), made again only when a source changed."""
    return invoke.host_build()


@pytest.fixture(scope="module")
def target_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build for Lambda itself (arm64, cp313): plain ``sam build``."""
    return invoke.sam_build(tmp_path_factory.mktemp("sam-target"), {})


@pytest.fixture(scope="session")
def runtime_shim() -> Path:
    """What the Lambda Python runtime provides (boto3, botocore, awslambdaric), for the host."""
    return invoke.runtime_shim()


@dataclass
class BuiltFunction:
    """A built function behind the RIE, and the table it writes."""

    running: invoke.BuiltFunction
    table_name: str

    @property
    def log(self) -> Path:
        return self.running.log

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.running.invoke(event, timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        return self.running.log_tail(lines)


@contextmanager
def running_built(
    build: Path,
    shim: Path,
    function: str,
    endpoint: str,
    table: str,
    prefix: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
    env_vars: dict[str, str] | None = None,
) -> Iterator[BuiltFunction]:
    """The built ``function`` behind the RIE, every AWS call to ``endpoint``.

    ``env_vars``: the function's variables as ``sam local invoke --env-vars`` sets them; then
    no ``AWS_ENDPOINT_URL`` is given, only what they say."""
    variables = {
        **DUMMY_AWS,
        "TABLE_NAME": table,
        "SECRETS_PREFIX": prefix,
        "AWS_ENDPOINT_URL": endpoint,
        "POWERTOOLS_SERVICE_NAME": "dlrhub",
        "POWERTOOLS_METRICS_NAMESPACE": "DLRHubTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **(extra_env or {}),
    }
    if env_vars is not None:
        del variables["AWS_ENDPOINT_URL"]
        variables.update(env_vars)
    with invoke.running_built(build, shim, function, variables, log_dir) as running:
        yield BuiltFunction(running, table)


@pytest.fixture(scope="module")
def built_function(
    host_build: Path, runtime_shim: Path, moto_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltFunction]:
    endpoint = moto_server.endpoint
    prefix = unique_name("rie")
    table = create_table(endpoint)
    put_sample_accounts(endpoint, prefix, ACCOUNT)
    log_dir = tmp_path_factory.mktemp("rie")
    with running_built(host_build, runtime_shim, "WebhookFunction", endpoint, table, prefix, log_dir) as built:
        yield built


# --- tests ---------------------------------------------------------------------------


def test_every_sample_event_has_an_expectation() -> None:
    assert {path.name for path in EVENTS.glob("webhook_*.json")} == set(SAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("event_name", sorted(SAMPLES))
def test_built_function_answers_sample_event(
    built_function: BuiltFunction, moto_server: Server, event_name: str
) -> None:
    reply = built_function.invoke(load_event(event_name))
    context = f"\n--- RIE log ---\n{built_function.log_tail()}"

    def read(provider: str, message_id: str) -> dict[str, Any] | None:
        return read_item(moto_server.endpoint, built_function.table_name, provider, ACCOUNT, message_id)

    check_sample_reply(event_name, reply, read, context)


@pytest.fixture(scope="module")
def built_events_function(
    host_build: Path, runtime_shim: Path, moto_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltFunction]:
    endpoint = moto_server.endpoint
    table = create_table(endpoint)
    log_dir = tmp_path_factory.mktemp("rie-events")
    env = {"EVENTS_ACCOUNT": EVENTS_ACCOUNT}
    with running_built(host_build, runtime_shim, "EventsInFunction", endpoint, table, "unused", log_dir, env) as built:
        yield built


@pytest.mark.slow
@pytest.mark.parametrize("event_name", sorted(EVENT_SAMPLES))
def test_built_events_function_answers_eventbridge_sample(
    built_events_function: BuiltFunction, moto_server: Server, event_name: str
) -> None:
    """The events function, built, applies each EventBridge sample as the deployed one would."""
    result = built_events_function.invoke(load_event(event_name))
    context = f"\n--- RIE log ---\n{built_events_function.log_tail()}"

    def read(provider: str, message_id: str) -> dict[str, Any] | None:
        return read_item(moto_server.endpoint, built_events_function.table_name, provider, EVENTS_ACCOUNT, message_id)

    check_event_sample(event_name, result, read, context)


@pytest.mark.slow
@pytest.mark.parametrize("event_name", sorted(API_EVENTS))
def test_built_api_function_answers_sample_event(
    host_build: Path, runtime_shim: Path, moto_server: Server, tmp_path: Path, event_name: str
) -> None:
    """The customer API, built, on a fresh table per sample event (their seeds sent first)."""
    endpoint = moto_server.endpoint
    table = create_table(endpoint)

    def status_of(key: str) -> str | None:
        item = read_item(endpoint, table, *split_key(key))
        return None if item is None else item["status"]

    with running_built(host_build, runtime_shim, "ApiFunction", endpoint, table, "unused", tmp_path) as built:
        try:
            check_api_sample(event_name, built.invoke, status_of)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- RIE log ---\n{built.log_tail()}") from None


@pytest.mark.slow
def test_built_layers(host_build: Path, target_build: Path) -> None:
    """The layer carries the core package; the Lambda build carries arm64/cp313 wheels."""
    assert (host_build / "CoreLayer" / "python" / "dlrhub" / "__init__.py").is_file()
    target_layer = target_build / "CoreLayer" / "python"
    assert (target_layer / "dlrhub" / "__init__.py").is_file()
    assert (target_layer / TARGET_NATIVE).is_file(), sorted(p.name for p in (target_layer / "pydantic_core").iterdir())
    print(f"\ntarget CoreLayer: {directory_mb(target_layer):.1f} MB")


# --- the env-vars file (make invoke, sam local invoke --env-vars), under the RIE ----------------


def env_vars_for(endpoint: str) -> dict[str, dict[str, str]]:
    """The env-vars file the local stack writes, with every service at ``endpoint`` (the test's moto)."""
    template = Template(TEMPLATE)
    services = ("DYNAMODB", "SECRETS_MANAGER", "EVENTBRIDGE", "LAMBDA")
    endpoints = {f"AWS_ENDPOINT_URL_{service}": endpoint for service in services}
    return document(template, function_environment(template), endpoints)


def declared_variables(function: str) -> set[str]:
    return set(Template(TEMPLATE).functions()[function].environment)


@pytest.mark.parametrize("function", sorted(Template(TEMPLATE).functions()))
def test_env_vars_file_sets_only_variables_the_template_declares(function: str) -> None:
    """``--env-vars`` overrides declared variables only: anything else would silently do nothing."""
    found = env_vars_for("http://127.0.0.1:1")[function]
    undeclared = set(found) - declared_variables(function)
    assert not undeclared, f"{function}: sam local would ignore {sorted(undeclared)}"
    assert {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "TABLE_NAME"} <= set(found)
    assert found["POWERTOOLS_SERVICE_NAME"] == "dlrhub-local"  # the stack's name, as deployed


def ensure_local_table(endpoint: str, name: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    if name not in client.list_tables()["TableNames"]:
        create_table(endpoint, name)


def ensure_sample_accounts(endpoint: str, prefix: str) -> None:
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    try:
        client.describe_secret(SecretId=f"{prefix}/infin8linx/{ACCOUNT}")
    except client.exceptions.ResourceNotFoundException:
        put_sample_accounts(endpoint, prefix, ACCOUNT)


@pytest.mark.slow
def test_built_functions_run_with_the_env_vars_file(
    host_build: Path, runtime_shim: Path, moto_server: Server, tmp_path: Path
) -> None:
    """The README's sam local invoke commands, with the RIE in place of Docker: the webhook
    stores a sample callback, the stream function takes the stream events of events/."""
    endpoint = moto_server.endpoint
    file = env_vars_for(endpoint)
    webhook_env = file["WebhookFunction"]
    ensure_local_table(endpoint, webhook_env["TABLE_NAME"])
    ensure_sample_accounts(endpoint, webhook_env["SECRETS_PREFIX"])
    table = webhook_env["TABLE_NAME"]
    name = "webhook_infin8linx_delivered.json"
    with running_built(host_build, runtime_shim, "WebhookFunction", "", table, "", tmp_path, webhook_env) as built:
        reply = built.invoke(load_event(name))

        def read(provider: str, message_id: str) -> dict[str, Any] | None:
            return read_item(endpoint, table, provider, ACCOUNT, message_id)

        check_sample_reply(name, reply, read, f"\n--- RIE log ---\n{built.log_tail()}")
    stream_env = file["StreamFunction"]
    with running_built(host_build, runtime_shim, "StreamFunction", "", table, "", tmp_path, stream_env) as built:
        for event in ("stream_generated_update.json", "stream_message_delivered.json"):
            reply = built.invoke(load_event(event))
            assert reply == {"state": {}}, f"{event}: {reply}\n--- RIE log ---\n{built.log_tail()}"
        log = built.log.read_text(errors="replace")
    assert "628131565746" not in log.replace('"destination"', "")  # EMF lines and logs carry no number
    stats = read_stats(endpoint, table)
    assert stats.get("delivered") == 1, stats


# --- make invoke against a running local stack --------------------------------------------------

SAMPLE_SECRET = "sample-secret-change-me"  # what the sample webhook events carry in their path


def make_invoke(*args: str) -> subprocess.CompletedProcess[str]:
    """``make invoke``'s command (the Makefile adds only the sam venv to PATH)."""
    env = {**os.environ, "PATH": f"{ROOT / '.venv-sam' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "dlrhub_local.invoke", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def sample_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The local stack, its infin8linx/demo account taking the sample events' secret."""
    config = tmp_path_factory.mktemp("invoke") / "local.json"
    accounts = local_config.generate()
    accounts["accounts"]["infin8linx/demo"]["webhook_secret"] = SAMPLE_SECRET
    local_config.save(accounts, config)
    with local_stack(config, "--no-demo", "--poll-every", "0", "--report-every", "0") as stack:
        require_dynamodb_local(stack)
        yield stack


@pytest.mark.slow
def test_the_running_stack_writes_an_env_vars_file_for_its_endpoints(sample_stack: StackProcess) -> None:
    """Valid for ``sam local invoke --env-vars``: each function's declared variables only, the
    endpoints those of this run (the banner's)."""
    path = sample_stack.config.with_suffix("") / "env-vars.json"
    assert any(str(path) in line for line in sample_stack.seen), "the banner names the file"
    for function in Template(TEMPLATE).functions():
        found = read_env_vars(path, function)
        assert set(found) <= declared_variables(function), function
        assert found["AWS_ENDPOINT_URL_DYNAMODB"] == sample_stack.dynamodb
        assert found["AWS_ENDPOINT_URL_SECRETS_MANAGER"] == sample_stack.moto
        assert found["TABLE_NAME"] == sample_stack.table


@pytest.mark.slow
def test_make_invoke_runs_the_built_function_against_the_running_stack(
    host_build: Path, runtime_shim: Path, sample_stack: StackProcess
) -> None:
    """The webhook, built, under the RIE, stores the sample callback in the running stack's table,
    whose console shows it; a second time it is a duplicate, told in words."""
    env_vars = str(sample_stack.config.with_suffix("") / "env-vars.json")
    event = str(EVENTS / "webhook_infin8linx_delivered.json")
    done = make_invoke("WebhookFunction", event, "--env-vars", env_vars)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WebhookFunction (built in .aws-sam/host) answered in" in done.stdout
    assert json.loads(done.stdout[done.stdout.index("{") :])["statusCode"] == 200, done.stdout
    line = sample_stack.wait_for_line(r"stored +infin8linx/demo 36160109669 -> DELIVERED \(raw '1', webhook\)")
    assert "628131565746" not in line
    wrong = make_invoke("WebhookFunction", str(EVENTS / "webhook_infin8linx_bad_state.json"), "--env-vars", env_vars)
    assert '"statusCode": 400' in wrong.stdout
    assert "webhook: callback rejected (infin8linx/demo): reason state must be 0, 1 or 2" in wrong.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("WebhookFunction", "events/webhook_infin8linx_delivered.json", "--env-vars", "/nonexistent/env-vars.json"),
            "make invoke: no running local stack: /nonexistent/env-vars.json is missing (start make run",
        ),
        (
            ("NoSuchFunction", "events/webhook_infin8linx_delivered.json", "--env-vars", "{env}"),
            "make invoke: NoSuchFunction is not a function of template.yaml (one of: WebhookFunction,",
        ),
        (
            ("WebhookFunction", "events/no_such_event.json", "--env-vars", "{env}"),
            "make invoke: no event file events/no_such_event.json (the samples are in events/)",
        ),
    ],
)
def test_make_invoke_says_in_one_line_what_is_missing(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    env = tmp_path / "env-vars.json"
    env.write_text(json.dumps(env_vars_for("http://127.0.0.1:1")))  # a stack that is gone
    done = make_invoke(*(arg.replace("{env}", str(env)) for arg in args))
    assert done.returncode == 2
    assert done.stdout.startswith(says), done.stdout
    assert len(done.stdout.strip().splitlines()) == 1
    assert "Traceback" not in done.stdout + done.stderr


def test_make_invoke_says_when_the_stack_that_wrote_the_file_is_gone(tmp_path: Path) -> None:
    env = tmp_path / "env-vars.json"
    env.write_text(json.dumps(env_vars_for("http://127.0.0.1:1")))
    done = make_invoke("WebhookFunction", "events/webhook_infin8linx_delivered.json", "--env-vars", str(env))
    assert done.returncode == 2
    assert done.stdout.strip() == (
        f"make invoke: the local stack that wrote {env} is not running (nothing at http://127.0.0.1:1): start make run"
    )


def read_stats(endpoint: str, table: str) -> dict[str, int]:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    found = StatsStore(table, client=client).buckets("infin8linx", "demo", start, start + timedelta(minutes=5))
    return {name: value for bucket in found for name, value in bucket.items() if name != "bucket"}
