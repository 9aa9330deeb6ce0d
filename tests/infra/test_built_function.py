"""The artifacts of ``sam build``, run as Lambda runs them.

``sam build`` builds the layer and the functions for the host (architecture and Python);
the built webhook and API functions then answer each of their sample events through the
Lambda Runtime Interface Emulator that ships inside aws-sam-cli. The interpreter runs with ``-S``: only
the built function, the built layer and a shim standing for the Lambda Python runtime
(boto3, awslambdaric) are importable, never the test environment's site-packages.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from dlrhub.table.counters import StatsStore
from dlrhub_local.processes import LOOPBACK, Server, free_port, wait_for_port
from dlrhub_local.template import Template
from tests.api_support import API_EVENTS, check_api_sample, split_key
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
SAM_BUILD_TIMEOUT = 300
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
#: What the Lambda Python runtime brings along; pinned for the tests in requirements-dev.txt.
RUNTIME_PACKAGES = ("boto3", "botocore", "awslambdaric")
TARGET_NATIVE = "pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so"


# --- helpers -------------------------------------------------------------------------


def sam_executable() -> str:
    found = shutil.which("sam") or str(ROOT / ".venv-sam" / "bin" / "sam")
    if not Path(found).exists():
        pytest.fail("sam is not installed (make setup)")
    return found


def host_is_arm() -> bool:
    return platform.machine().lower() in {"aarch64", "arm64"}


def host_layer_env() -> dict[str, str]:
    """Layer Makefile overrides that build the layer for this machine and this Python."""
    arch = "aarch64" if host_is_arm() else "x86_64"
    return {
        "LAYER_PLATFORMS": f"manylinux2014_{arch} manylinux_2_28_{arch}",
        "LAYER_PYTHON": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def run_checked(command: list[str], what: str, env: dict[str, str] | None = None, timeout: float = 300) -> None:
    """Run ``command`` from ROOT; fail the test with its output unless it exits 0."""
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def sam_build(build_dir: Path, overrides: dict[str, str]) -> Path:
    """``sam build`` into ``build_dir``; the layer Makefile sees ``overrides`` (and only those)."""
    sam = sam_executable()
    env = {key: value for key, value in os.environ.items() if key not in {"LAYER_PLATFORMS", "LAYER_PYTHON"}}
    # The layer Makefile runs `python3 -m pip`: the sam venv's, as under `make test`.
    env["PATH"] = f"{Path(sam).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(SAM_CLI_TELEMETRY="0", **overrides)
    command = [sam, "build", "--build-dir", str(build_dir), "--template", str(TEMPLATE)]
    run_checked(command, "sam build", env, SAM_BUILD_TIMEOUT)
    return build_dir


def dev_pins(names: tuple[str, ...]) -> list[str]:
    """``name==version`` lines of requirements-dev.txt for ``names``."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower()] = match[0]
    missing = [name for name in names if name not in pins]
    assert not missing, f"requirements-dev.txt pins none of {missing}"
    return [pins[name] for name in names]


def base_python() -> str:
    """The interpreter the venv was made from: no venv, and with -S no site-packages."""
    base = getattr(sys, "_base_executable", None) or str(Path(sys.base_prefix) / "bin" / "python3")
    return os.path.realpath(base)


def rie_binary() -> Path:
    arch = "arm64" if host_is_arm() else "x86_64"
    pattern = f"lib/python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-{arch}"
    venvs = [Path(sam_executable()).parents[1], ROOT / ".venv-sam"]
    found = [path for venv in venvs for path in venv.glob(pattern)]
    if not found:
        pytest.fail(f"no aws-lambda-rie-{arch} inside the aws-sam-cli package")
    rie = found[0]
    if not os.access(rie, os.X_OK):
        rie.chmod(rie.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return rie


def directory_mb(path: Path) -> float:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file()) / 1024 / 1024


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sam_build(tmp_path_factory.mktemp("sam-host"), host_layer_env())


@pytest.fixture(scope="module")
def target_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build for Lambda itself (arm64, cp313): plain ``sam build``."""
    return sam_build(tmp_path_factory.mktemp("sam-target"), {})


@pytest.fixture(scope="session")
def runtime_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Lambda Python runtime provides (boto3, botocore, awslambdaric), for the host."""
    shim = tmp_path_factory.mktemp("lambda-runtime")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(shim)]
    run_checked([*pip, *dev_pins(RUNTIME_PACKAGES)], "pip install of the runtime shim")
    probe = f"import sys; sys.path[:0] = [{str(shim)!r}]; import awslambdaric.bootstrap, runtime_client, boto3"
    run_checked([base_python(), "-S", "-c", probe], "importing the runtime shim with the base interpreter")
    return shim


@dataclass
class BuiltFunction:
    """A built function behind the RIE."""

    server: Server
    log: Path
    table_name: str

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 URL
            f"{self.server.endpoint}{INVOKE_PATH}",
            data=json.dumps(event).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - as above
            return json.loads(reply.read())

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


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
    """The built ``function`` (with the built layer and the runtime shim only) behind the RIE.

    ``env_vars``: the function's variables as ``sam local invoke --env-vars`` sets them; then
    no ``AWS_ENDPOINT_URL`` is given, only what they say."""
    function_dir = build / function
    layer_dir = build / "CoreLayer" / "python"
    env = {
        **DUMMY_AWS,
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": str(function_dir),
        "PYTHONPATH": os.pathsep.join(map(str, [function_dir, layer_dir, shim])),
        "TABLE_NAME": table,
        "SECRETS_PREFIX": prefix,
        "AWS_ENDPOINT_URL": endpoint,
        "POWERTOOLS_SERVICE_NAME": "dlrhub",
        "POWERTOOLS_METRICS_NAMESPACE": "DLRHubTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
        **(extra_env or {}),
    }
    if env_vars is not None:
        del env["AWS_ENDPOINT_URL"]
        env.update(env_vars)
    port, api_port = free_port(), free_port()
    command = [
        str(rie_binary()),
        "--runtime-interface-emulator-address",
        f"{LOOPBACK}:{port}",
        "--runtime-api-address",
        f"{LOOPBACK}:{api_port}",
        base_python(),
        "-S",
        "-m",
        "awslambdaric",
        "app.handler",
    ]
    log = log_dir / f"rie-{function}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=function_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    built = BuiltFunction(Server("rie", process, port), log, table)
    try:
        wait_for_port(port, process)
        yield built
    finally:
        built.server.stop()


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


# --- sam local invoke --env-vars events/env-local.json, under the RIE ------------------

ENV_FILE = EVENTS / "env-local.json"
LOCAL_PORTS = ("http://127.0.0.1:8000", "http://127.0.0.1:5000")  # what env-local.json assumes


def env_file_vars(function: str, endpoint: str) -> dict[str, str]:
    """What ``sam local invoke --env-vars events/env-local.json`` gives ``function``, its local
    endpoints moved to ``endpoint`` (the test's moto server, DynamoDB and the rest alike)."""
    document = json.loads(ENV_FILE.read_text())
    found = {**document.get("Parameters", {}), **document.get(function, {})}
    for key, value in found.items():
        for local in LOCAL_PORTS:
            if value == local:
                found[key] = endpoint
    return found


def declared_variables(function: str) -> set[str]:
    return set(Template(TEMPLATE).functions()[function].environment)


@pytest.mark.parametrize("function", ["WebhookFunction", "ApiFunction", "PollerFunction", "StreamFunction"])
def test_env_vars_file_sets_only_variables_the_template_declares(function: str) -> None:
    """``--env-vars`` overrides declared variables only: anything else would silently do nothing."""
    undeclared = set(env_file_vars(function, "x")) - declared_variables(function)
    assert not undeclared, f"{function}: sam local would ignore {sorted(undeclared)}"
    assert {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} <= set(env_file_vars(function, "x"))


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
    webhook_env = env_file_vars("WebhookFunction", endpoint)
    ensure_local_table(endpoint, webhook_env["TABLE_NAME"])
    ensure_sample_accounts(endpoint, webhook_env["SECRETS_PREFIX"])
    table = webhook_env["TABLE_NAME"]
    name = "webhook_infin8linx_delivered.json"
    with running_built(host_build, runtime_shim, "WebhookFunction", "", table, "", tmp_path, webhook_env) as built:
        reply = built.invoke(load_event(name))

        def read(provider: str, message_id: str) -> dict[str, Any] | None:
            return read_item(endpoint, table, provider, ACCOUNT, message_id)

        check_sample_reply(name, reply, read, f"\n--- RIE log ---\n{built.log_tail()}")
    stream_env = env_file_vars("StreamFunction", endpoint)
    with running_built(host_build, runtime_shim, "StreamFunction", "", table, "", tmp_path, stream_env) as built:
        for event in ("stream_generated_update.json", "stream_message_delivered.json"):
            reply = built.invoke(load_event(event))
            assert reply == {"state": {}}, f"{event}: {reply}\n--- RIE log ---\n{built.log_tail()}"
        log = built.log.read_text(errors="replace")
    assert "628131565746" not in log.replace('"destination"', "")  # EMF lines and logs carry no number
    stats = read_stats(endpoint, table)
    assert stats.get("delivered") == 1, stats


def read_stats(endpoint: str, table: str) -> dict[str, int]:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    found = StatsStore(table, client=client).buckets("infin8linx", "demo", start, start + timedelta(minutes=5))
    return {name: value for bucket in found for name, value in bucket.items() if name != "bucket"}
