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
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from dlrhub_local.gateway import LambdaContext
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


class LambdaService:
    def __init__(
        self,
        handlers: dict[str, Handler],
        timeouts: dict[str, int],
        on_result: Callable[[Invocation], None] = lambda _: None,
    ) -> None:
        self._handlers = handlers
        self._timeouts = timeouts
        self._on_result = on_result
        self._busy = 0
        self._idle = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "not started"
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> LambdaService:
        service = self

        class Request(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # the stack prints its own lines
                pass

            def do_POST(self) -> None:
                found = PATH.match(self.path.split("?", 1)[0])
                name = unquote(found.group("name")).rsplit(":", 1)[-1] if found else ""  # a name or an ARN
                if not found or name not in service._handlers:
                    self._reply(404, {"Type": "User", "message": f"Function not found: {name[:64]}"}, error=True)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._reply(413, {"Type": "User", "message": "payload too large"}, error=True)
                    return
                try:
                    event = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._reply(400, {"Type": "User", "message": "payload is not JSON"}, error=True)
                    return
                if self.headers.get("X-Amz-Invocation-Type") == "Event":
                    service._start_async(name, event)
                    self._reply(202, None)
                    return
                outcome = service.run(name, event)
                extra = {"X-Amz-Function-Error": "Unhandled"} if outcome.error else {}
                body = {"errorMessage": outcome.error} if outcome.error else outcome.result
                self._reply(200, body, headers=extra)

            def _reply(self, status: int, body: Any, *, error: bool = False, headers: dict | None = None) -> None:
                data = b"" if body is None else json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error:
                    self.send_header("x-amzn-ErrorType", "ResourceNotFoundException" if status == 404 else "Invalid")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((LOOPBACK, port), Request)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="lambda-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def run(self, function: str, event: dict[str, Any]) -> Invocation:
        """One invocation in this thread, with a fresh context (the function's timeout)."""
        timeout_ms = self._timeouts.get(function, 3) * 1000
        context = LambdaContext(function, str(uuid.uuid4()), timeout_ms=timeout_ms, started=time.monotonic())
        try:
            return Invocation(function, event, result=self._handlers[function](event, context))
        except Exception:
            return Invocation(function, event, error=traceback.format_exc(limit=8))

    def _start_async(self, function: str, event: dict[str, Any]) -> None:
        with self._idle:
            self._busy += 1

        def work() -> None:
            try:
                self._on_result(self.run(function, event))
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
