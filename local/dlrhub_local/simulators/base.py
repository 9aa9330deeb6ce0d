"""What every provider simulator shares: a real HTTP server on loopback, latency, faults, counts.

A simulator (a :class:`SimulatorServer`) answers a provider's documented status API on 127.0.0.1 (port 0:
any free port, see ``port``/``url`` once started): tests use it in-process, the local stack starts one per
provider. Its knobs (``latency``, the faults ``*_next`` queued one per request, the counts) are thread-safe,
and every wait is on the stop event, so ``stop()`` never waits for a stalled request (docs/poller.md).

A simulator also plays its provider in the local stack's demo (the hooks from :meth:`demo_account` to
:meth:`example`). The registry is :data:`dlrhub_local.simulators.SIMULATORS`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

from dlrhub_local.loopback_http import LoopbackServer, QuietHandler
from dlrhub_local.processes import LOOPBACK

MAX_BODY = 1024 * 1024
LOG_SIZE = 10_000
#: Seconds a pushed demo report stays invisible to polls after its callback.
PUSH_HEAD_START = 60.0


@dataclass(frozen=True)
class SimRequest:
    """One request as the simulator received it."""

    method: str
    #: Path and query exactly as sent (what a signature covers).
    target: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        """A query parameter given once (None when absent; the first when repeated)."""
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode("utf-8", "replace")).items()}

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        return json.loads(self.body.decode("utf-8"))


@dataclass(frozen=True)
class SimResponse:
    status: int
    body: bytes
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, value: Any, headers: dict[str, str] | None = None) -> SimResponse:
    return SimResponse(status, json.dumps(value, separators=(",", ":")).encode(), headers=headers or {})


def text_reply(status: int, text: str) -> SimResponse:
    return SimResponse(status, text.encode(), "text/plain;charset=UTF-8")


@dataclass
class Fault:
    """One queued fault (``status``, ``stall``, ``code`` or ``malformed``); it hits ``remaining`` requests."""

    kind: str
    remaining: int
    status: int = 500
    seconds: float = 0.0
    code: Any = None
    retry_after: float | None = None


@dataclass(frozen=True)
class DemoMessage:
    """A message of the local demo, as its provider will know it."""

    message_id: str
    destination: str
    outcome: str  # the provider's final word
    after: float  # seconds until the provider has it
    push: bool  # True: the provider calls back; False: the poller has to ask
    registered: bool = True  # False: sent but never registered (a window poll finds it anyway)

    @property
    def polls_see_it_after(self) -> float:
        """A pushed message reads as "no status yet" to polls until well after its callback,
        so each line on screen shows the path the demo meant for it."""
        return self.after + (PUSH_HEAD_START if self.push else 0.0)


def random_secret() -> str:
    return secrets.token_urlsafe(24)


class SimulatorServer:
    """Base of the provider simulators. Subclasses implement :meth:`route` and the demo hooks."""

    name = "simulator"
    #: The registered provider (dlrhub.providers) this simulator plays.
    provider: ClassVar[str] = ""
    #: The local demo's messages for this provider.
    demo_messages: ClassVar[tuple[DemoMessage, ...]] = ()
    #: The account key that points the hub at this simulator's URL (none: the hub never asks this provider).
    url_key: ClassVar[str] = ""

    # -- the local stack's demo ----------------------------------------------------------

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        """Fresh random keys for a ``{provider}/demo`` account (everything but the URLs)."""
        raise NotImplementedError

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> Self | None:
        """A simulator that accepts this account's keys; None when it has none to serve."""
        raise NotImplementedError

    def account_urls(self) -> dict[str, str]:
        """The account keys that point the hub at this simulator."""
        return {self.url_key: self.url} if self.url_key else {}

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        """The provider has the message; its final word is due ``message.after`` seconds from now."""
        raise NotImplementedError

    def push_demo(self, webhook_url: str, message: DemoMessage, keys: dict[str, Any]) -> bool:
        """The provider's callback for a pushed demo message; True when the hub took it (False: it never calls back)."""
        return False

    @classmethod
    def example(cls, webhook_url: str, keys: dict[str, Any]) -> tuple[str, str] | None:
        """(what, a curl command) a person can send to try the provider's callback."""
        return None

    def __init__(self, *, port: int = 0, clock: Callable[[], float] = time.time) -> None:
        self._requested_port = port
        self._clock = clock
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: deque[Fault] = deque()
        self._latency = 0.0
        self._counts: Counter[str] = Counter()
        self.log: deque[SimRequest] = deque(maxlen=LOG_SIZE)
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        handler = type("Handler", (SimulatorHandler,), {"simulator": self, "server_version": f"dlrhub-sim-{self.name}"})
        self._server = LoopbackServer((LOOPBACK, self._requested_port), handler)
        self._stopping.clear()
        self._thread = self._server.serve_in_thread(f"sim-{self.name}", poll_interval=0.05)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self.name} simulator is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # -- knobs -------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        with self._lock:
            self._latency = seconds

    def now(self) -> float:
        """The simulator's clock (Unix seconds): the one its timestamp checks use."""
        return self._clock()

    def _queue(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault must hit at least one request")
        with self._lock:
            self._faults.append(fault)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` API requests get HTTP ``status`` (a gateway error, not the provider's)."""
        self._queue(Fault("status", n, status=status))

    def throttle_next(self, n: int = 1, retry_after: float | None = 0) -> None:
        """The next ``n`` API requests get 429, with ``Retry-After`` seconds unless None."""
        self._queue(Fault("status", n, status=429, retry_after=retry_after))

    def stall_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """The next ``n`` API requests wait ``seconds`` before being answered normally."""
        self._queue(Fault("stall", n, seconds=seconds))

    def code_next(self, n: int = 1, code: Any = None) -> None:
        """The next ``n`` API requests get the provider's own error reply for ``code``."""
        self._queue(Fault("code", n, code=code))

    def malform_next(self, n: int = 1) -> None:
        """The next ``n`` API requests get HTTP 200 with a body cut short (JSON that does not parse)."""
        self._queue(Fault("malformed", n))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.popleft()
            return fault

    # -- counts ------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        """API requests received so far (faulted ones included)."""
        with self._lock:
            return self._counts.total()

    def requests_to(self, path: str) -> int:
        with self._lock:
            return self._counts[path]

    def received(self, path: str | None = None) -> list[SimRequest]:
        with self._lock:
            return [request for request in self.log if path is None or request.path == path]

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self.log.clear()

    # -- serving -----------------------------------------------------------------------

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` unless stopping; False when the simulator is stopping."""
        return not self._stopping.wait(seconds) if seconds > 0 else not self._stopping.is_set()

    def dispatch(self, request: SimRequest) -> SimResponse | None:
        """The answer to ``request``: after the latency, a fault queued, else the provider's; None when stopping."""
        if not self.is_api(request):
            return json_reply(404, {"error": "not found"})
        with self._lock:
            self._counts[request.path] += 1
            self.log.append(request)
            latency = self._latency
        if not self.sleep(latency):
            return None
        fault = self._take_fault()
        if fault is not None and fault.kind != "stall":
            return self._fault_reply(request, fault)
        if fault is not None and not self.sleep(fault.seconds):
            return None
        try:
            return self.route(request)
        except Exception as error:  # a simulator bug must show, not hang the client
            return json_reply(500, {"message": f"simulator error: {type(error).__name__}: {error}"})

    def _fault_reply(self, request: SimRequest, fault: Fault) -> SimResponse:
        if fault.kind == "code":
            return self.error_reply(request, fault.code)
        if fault.kind == "malformed":
            return SimResponse(200, b'{"code":0,"msg":"Success","data":[{"msgid":')
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        return json_reply(fault.status, {"message": f"simulated HTTP {fault.status}"}, headers)

    def is_api(self, request: SimRequest) -> bool:
        """Whether the request is for one of the provider's API paths (404 otherwise)."""
        raise NotImplementedError

    def route(self, request: SimRequest) -> SimResponse:
        raise NotImplementedError

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        """The provider's own error reply for ``code`` (used by ``code_next``)."""
        raise NotImplementedError


class ReportingSimulator(SimulatorServer):
    """A provider the hub never asks: it only reports in (callbacks, events). Its simulator
    serves no API; it takes a demo account that has the keys in ``needs`` and does its work
    in :meth:`push_demo`."""

    #: The account keys without which the simulator has nothing to send.
    needs: ClassVar[tuple[str, ...]] = ("webhook_secret",)

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> Self | None:
        return cls() if all(keys.get(key) for key in cls.needs) else None

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        pass  # everything happens in push_demo

    def is_api(self, request: SimRequest) -> bool:
        return False  # no API of the provider's is simulated: every request gets 404 (none is routed)


class SimulatorHandler(QuietHandler):
    """A connection to a simulator: each request read whole (at most MAX_BODY bytes), answered as it says."""

    simulator: SimulatorServer  # set by SimulatorServer.start

    def handle_request(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self.reply(SimResponse(413, b'{"error":"request too large"}'))
            return
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        response = self.simulator.dispatch(SimRequest(self.command, self.path, headers, body, time.time()))
        if response is None:  # stopping: no answer, and no next request on this connection
            self.close_connection = True
        else:
            self.reply(response)

    def reply(self, response: SimResponse) -> None:
        self.answer(
            response.status, response.body, [("content-type", response.content_type), *response.headers.items()]
        )

    do_GET = do_POST = do_PUT = do_DELETE = handle_request
