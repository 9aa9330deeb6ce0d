"""Lambda's Invoke API on loopback, for the functions the local stack runs in its own process.

The deployed poller fans out: its scheduled run invokes itself once per account,
asynchronously (``dlrhub.services.poller.dispatch``). Locally ``AWS_ENDPOINT_URL_LAMBDA`` points the
functions' boto3 at this server, which takes ``POST /2015-03-31/functions/{name}/invocations``
as Lambda does: ``X-Amz-Invocation-Type: Event`` answers 202 at once and runs the handler in a
thread of its own (several at once, as Lambda would), with a context carrying the function's
timeout from template.yaml; ``RequestResponse`` (the default) answers the handler's result, or
200 with ``X-Amz-Function-Error: Unhandled`` when it raised. An unknown function is 404
``ResourceNotFoundException``. Each finished asynchronous run is handed to ``on_result``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from dlrhub_local.gateway import LambdaContext
from dlrhub_local.loopback_http import LoopbackServer, QuietHandler
from dlrhub_local.processes import LOOPBACK

Handler = Callable[[dict[str, Any], Any], Any]
PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
MAX_BODY = 256 * 1024  # Lambda's asynchronous payload limit


@dataclass(frozen=True)
class Invocation:
    function: str
    event: dict[str, Any]
    result: Any = None
    error: str | None = None


@dataclass
class LambdaService:
    """The Invoke API of ``handlers`` (``timeouts``: each one's, in seconds) on a free port of loopback."""

    handlers: dict[str, Handler]
    timeouts: dict[str, int]
    on_result: Callable[[Invocation], None] = lambda _: None
    _busy: int = field(default=0, init=False)
    _idle: threading.Condition = field(default_factory=threading.Condition, init=False)
    _server: LoopbackServer | None = field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "not started"
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> LambdaService:
        handler = type("Handler", (InvokeHandler,), {"service": self})
        self._server = LoopbackServer((LOOPBACK, port), handler)
        self._server.serve_in_thread("lambda-api")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def knows(self, function: str) -> bool:
        return function in self.handlers

    def run(self, function: str, event: dict[str, Any]) -> Invocation:
        """One invocation in this thread, with a fresh context (the function's timeout)."""
        context = LambdaContext(function, timeout_ms=self.timeouts.get(function, 3) * 1000)
        try:
            return Invocation(function, event, result=self.handlers[function](event, context))
        except Exception:
            return Invocation(function, event, error=traceback.format_exc(limit=8))

    def start_async(self, function: str, event: dict[str, Any]) -> None:
        """An asynchronous invocation (``Event``), in a thread of its own; ``on_result`` gets its outcome."""
        with self._idle:
            self._busy += 1

        def work() -> None:
            try:
                self.on_result(self.run(function, event))
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        threading.Thread(target=work, name=f"invoke-{function}", daemon=True).start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no asynchronous invocation is running; False if some still are after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def __enter__(self) -> LambdaService:
        return self.start() if self._server is None else self

    def __exit__(self, *_: object) -> None:
        self.stop()


class InvokeHandler(QuietHandler):
    """``POST /2015-03-31/functions/{name}/invocations`` as Lambda's Invoke API answers it."""

    protocol_version = "HTTP/1.0"  # a connection per invocation
    service: LambdaService  # set by LambdaService.start

    def do_POST(self) -> None:
        found = PATH.match(self.path.split("?", 1)[0])
        name = unquote(found.group("name")).rsplit(":", 1)[-1] if found else ""  # a name or an ARN
        if not found or not self.service.knows(name):
            self.refuse(404, f"Function not found: {name[:64]}")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.refuse(413, "payload too large")
            return
        try:
            event = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.refuse(400, "payload is not JSON")
            return
        if self.headers.get("X-Amz-Invocation-Type") == "Event":
            self.service.start_async(name, event)
            self.reply(202, None)
            return
        outcome = self.service.run(name, event)
        if outcome.error:
            self.reply(200, {"errorMessage": outcome.error}, [("X-Amz-Function-Error", "Unhandled")])
        else:
            self.reply(200, outcome.result)

    def reply(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
        data = b"" if body is None else json.dumps(body, default=str).encode()
        self.answer(status, data, [("Content-Type", "application/json"), *(headers or [])])

    def refuse(self, status: int, message: str) -> None:
        error_type = "ResourceNotFoundException" if status == 404 else "Invalid"
        self.reply(status, {"Type": "User", "message": message}, [("x-amzn-ErrorType", error_type)])
