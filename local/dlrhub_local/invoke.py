"""python -m dlrhub_local.invoke (make invoke): one built function, one event, no Docker.

The function is built by ``sam build`` for this machine (its architecture and Python: the
layer's Makefile takes the platform and the version) into .aws-sam/host, again only when a
source is newer than the build. It then runs as Lambda runs it: under AWS's Lambda Runtime
Interface Emulator (the binary that ships inside aws-sam-cli), with the Python runtime's client
(awslambdaric) and boto3 beside it, and nothing else importable (``python -S``: no site-packages).
Its variables are the running local stack's env-vars file (``make run`` writes
.dlrhub-local/env-vars.json, the file ``sam local invoke --env-vars`` takes too), so it reads
and writes that stack's table, secrets and bus, and the stack's console shows what it stored.
The reply is printed, and the function's log lines in words (raw with ``--json-logs``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dlrhub_local import console
from dlrhub_local.env_vars import read_env_vars
from dlrhub_local.processes import LOOPBACK, Server, free_port, spawn, wait_for_port
from dlrhub_local.services import CREDENTIALS
from dlrhub_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
HOST_BUILD = ROOT / ".aws-sam" / "host"
RUNTIME = ROOT / ".cache" / "lambda-runtime"
RUNTIME_REQUIREMENTS = ROOT / "requirements-lambda-runtime.txt"
ENV_VARS = ROOT / ".dlrhub-local" / "env-vars.json"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
SAM_BUILD_TIMEOUT = 600
#: What a build depends on: a change to any of these makes the next invoke build again.
SOURCES = ("template.yaml", "functions", "layers/core")
BUILT_MARK = ".dlrhub-host-build"


class Missing(Exception):
    """Something make invoke needs is not there; the message says what and how to give it (one line)."""


# --- the build --------------------------------------------------------------------------------


def sam_executable() -> str:
    found = shutil.which("sam") or str(ROOT / ".venv-sam" / "bin" / "sam")
    if not Path(found).exists():
        raise Missing("sam is not installed: make invoke installs aws-sam-cli into .venv-sam")
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
    """Run ``command`` from ROOT; RuntimeError with its output unless it exits 0."""
    result = subprocess.run(  # noqa: S603 - our own commands (sam, pip, the base interpreter)
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def sam_build(build_dir: Path, overrides: dict[str, str], template: Path = TEMPLATE) -> Path:
    """``sam build`` into ``build_dir``; the layer Makefile sees ``overrides`` (and only those)."""
    sam = sam_executable()
    env = {key: value for key, value in os.environ.items() if key not in {"LAYER_PLATFORMS", "LAYER_PYTHON"}}
    # The layer Makefile runs `python3 -m pip`: the sam venv's.
    env["PATH"] = f"{Path(sam).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(SAM_CLI_TELEMETRY="0", **overrides)
    command = [sam, "build", "--build-dir", str(build_dir), "--template", str(template)]
    run_checked(command, "sam build", env, SAM_BUILD_TIMEOUT)
    return build_dir


def newest_source(root: Path = ROOT) -> float:
    newest = 0.0
    for name in SOURCES:
        path = root / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(file.stat().st_mtime for file in files if "__pycache__" not in file.parts)])
    return newest


def host_build(build_dir: Path = HOST_BUILD, say: Callable[[str], None] = lambda _: None) -> Path:
    """The build for this machine, made again only when a source is newer than it."""
    mark = build_dir / BUILT_MARK
    wanted = json.dumps(host_layer_env(), sort_keys=True)
    if mark.is_file() and mark.read_text() == wanted and mark.stat().st_mtime >= newest_source():
        return build_dir
    say(f"building the functions and the layer for this machine (sam build into {shown(build_dir)}) ...")
    started = time.monotonic()
    sam_build(build_dir, host_layer_env())
    mark.write_text(wanted)
    say(f"built in {time.monotonic() - started:.0f} s")
    return build_dir


# --- what the Lambda Python runtime brings -----------------------------------------------------


def runtime_shim(target: Path = RUNTIME, say: Callable[[str], None] = lambda _: None) -> Path:
    """boto3, botocore and awslambdaric as pinned in requirements-lambda-runtime.txt, installed once
    into ``target`` for the base interpreter (again when the pins change)."""
    pins = RUNTIME_REQUIREMENTS.read_text()
    digest = hashlib.sha256(f"{pins}{sys.version_info[:2]}".encode()).hexdigest()
    mark = target / ".pins"
    if mark.is_file() and mark.read_text() == digest:
        return target
    say(f"installing what the Lambda Python runtime brings (boto3, awslambdaric) into {shown(target)} ...")
    shutil.rmtree(target, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(target)]
    run_checked([*pip, "-r", str(RUNTIME_REQUIREMENTS)], "pip install of the Lambda runtime's packages")
    probe = f"import sys; sys.path[:0] = [{str(target)!r}]; import awslambdaric.bootstrap, runtime_client, boto3"
    run_checked([base_python(), "-S", "-c", probe], "importing the Lambda runtime's packages with the base interpreter")
    mark.write_text(digest)
    return target


def base_python() -> str:
    """The interpreter the venv was made from: no venv, and with -S no site-packages."""
    base = getattr(sys, "_base_executable", None) or str(Path(sys.base_prefix) / "bin" / "python3")
    return os.path.realpath(base)


def rie_binary() -> Path:
    """aws-lambda-rie for this machine, from inside the aws-sam-cli package."""
    arch = "arm64" if host_is_arm() else "x86_64"
    pattern = f"lib/python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-{arch}"
    venvs = [Path(sam_executable()).parents[1], ROOT / ".venv-sam"]
    found = [path for venv in venvs for path in venv.glob(pattern)]
    if not found:
        raise Missing(f"no aws-lambda-rie-{arch} inside the aws-sam-cli package (.venv-sam): make invoke installs it")
    rie = found[0]
    if not os.access(rie, os.X_OK):
        rie.chmod(rie.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return rie


# --- running it ---------------------------------------------------------------------------------


@dataclass
class BuiltFunction:
    """A built function behind the RIE."""

    server: Server
    log: Path

    def invoke(self, event: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 URL
            f"{self.server.endpoint}{INVOKE_PATH}",
            data=json.dumps(event).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - as above
            found: dict[str, Any] = json.loads(reply.read())
            return found

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_lines()[-lines:])


@contextmanager
def running_built(
    build: Path,
    shim: Path,
    function: str,
    variables: dict[str, str],
    log_dir: Path,
    *,
    handler: str = "app.handler",
    timeout_s: int = 30,
) -> Iterator[BuiltFunction]:
    """The built ``function`` (its code, the built layer and the runtime's packages only) behind the
    RIE, with ``variables`` as its environment (the env-vars file's), as Lambda would set them."""
    function_dir = build / function
    if not function_dir.is_dir():
        raise Missing(f"{shown(build)} holds no {function}: is it a function of template.yaml?")
    layer_dir = build / "CoreLayer" / "python"
    env = {
        **CREDENTIALS,
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": str(function_dir),
        "PYTHONPATH": os.pathsep.join(map(str, [function_dir, layer_dir, shim])),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s),
        **variables,
    }
    port, api_port = free_port(), free_port()
    emulator = [str(rie_binary()), "--runtime-interface-emulator-address", f"{LOOPBACK}:{port}"]
    runtime = [base_python(), "-S", "-m", "awslambdaric", handler]  # the runtime's client, no site-packages
    command = [*emulator, "--runtime-api-address", f"{LOOPBACK}:{api_port}", *runtime]
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"rie-{function}.log"
    built = BuiltFunction(spawn("rie", command, port, cwd=function_dir, log=log, env=env), log)
    try:
        built.server.wait_ready(30)
        yield built
    finally:
        built.server.stop()


# --- the command ----------------------------------------------------------------------------------


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def stack_variables(env_vars: Path, function: str) -> dict[str, str]:
    """The function's variables from a running stack's env-vars file; Missing when there is none."""
    try:
        variables = read_env_vars(env_vars, function)
    except FileNotFoundError:
        raise Missing(
            f"no running local stack: {shown(env_vars)} is missing (start make run in another terminal; it writes it)"
        ) from None
    except KeyError:
        names = ", ".join(Template(TEMPLATE).functions())
        raise Missing(f"{function} is not a function of template.yaml (one of: {names})") from None
    except ValueError:
        raise Missing(f"{shown(env_vars)} is not JSON: start make run again to write it anew") from None
    table = variables.get("AWS_ENDPOINT_URL_DYNAMODB", "")
    parts = urlsplit(table)
    try:
        if parts.hostname == LOOPBACK:
            wait_for_port(parts.port or 80, timeout=1.0)
    except TimeoutError:
        raise Missing(
            f"the local stack that wrote {shown(env_vars)} is not running (nothing at {table}): start make run"
        ) from None
    return variables


def read_event(path: Path) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text())
    except FileNotFoundError:
        raise Missing(f"no event file {path} (the samples are in events/)") from None
    except ValueError as error:
        raise Missing(f"{path} is not JSON: {error}") from None
    if not isinstance(event, dict):
        raise Missing(f"{path} must hold one JSON object, the event")
    return event


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        prog="python -m dlrhub_local.invoke",
        description="Invoke one built function with one event under AWS's Lambda Runtime Interface Emulator,"
        " against the running local stack (make run), without Docker.",
        epilog="e.g. make invoke FUNCTION=WebhookFunction EVENT=events/webhook_infin8linx_delivered.json",
    )
    found.add_argument("function", help="the function's logical id in template.yaml, e.g. WebhookFunction")
    found.add_argument("event", type=Path, help="a JSON file holding the event, e.g. events/schedule_poller.json")
    found.add_argument(
        "--env-vars",
        type=Path,
        default=ENV_VARS,
        metavar="PATH",
        help="the running stack's env-vars file (default: .dlrhub-local/env-vars.json, written by make run)",
    )
    found.add_argument(
        "--build-dir", type=Path, default=HOST_BUILD, metavar="PATH", help="where the build for this machine goes"
    )
    found.add_argument("--json-logs", action="store_true", help="print the function's log lines as they are (JSON)")
    return found


def tell_logs(lines: list[str], function: str, json_logs: bool, out: Callable[[str], None]) -> None:
    """The function's log lines: in words (JSON lines that tell nothing, and the RIE's own, left out)."""
    for raw in lines:
        if json_logs:
            out(raw)
            continue
        try:
            log = json.loads(raw)
        except ValueError:
            continue  # the emulator's own lines (START, END, REPORT): in the RIE log
        if isinstance(log, dict) and "_aws" not in log:  # an EMF metrics line is no event
            line = console.words(log, function, verbose=True, behind_gateway=False)
            if line:
                out(line)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parser().parse_args(argv)
    log_dir = args.env_vars.resolve().parent
    try:
        event = read_event(args.event)
        variables = stack_variables(args.env_vars.resolve(), args.function)
        build = host_build(args.build_dir.resolve(), out)
        shim = runtime_shim(say=out)
        function = Template(TEMPLATE).functions()[args.function]
        handler = f"{function.source.stem}.{function.handler}"
        with running_built(build, shim, args.function, variables, log_dir, handler=handler) as built:
            started = time.monotonic()
            reply = built.invoke(event)
            took = (time.monotonic() - started) * 1000
            time.sleep(0.2)  # the log's last lines
            lines = built.log_lines()
    except Missing as error:
        out(f"make invoke: {error}")
        return 2
    except (RuntimeError, OSError, urllib.error.URLError) as error:
        out(f"make invoke: {str(error).strip().splitlines()[0]} (the full output: {shown(log_dir)}/rie-*.log)")
        return 1
    out(f"{args.function} (built in {shown(build)}) answered in {took:.0f} ms under the RIE:")
    out(json.dumps(reply, indent=2))
    tell_logs(lines, function.short_name, args.json_logs, out)
    failed = isinstance(reply, dict) and "errorType" in reply
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
