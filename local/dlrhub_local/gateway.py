"""A local stand-in for API Gateway HTTP API: real HTTP in, a v2 payload event to the handler.

Routes come from template.yaml. Each request becomes the event API Gateway would send
(payload format 2.0) and goes to the same handler code that runs in Lambda. Before the
template's routes, the local stack's own pages may answer (``local_pages``: page.py); it hears of
every request a function refused (``on_refused``).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from dlrhub_local.loopback_http import LoopbackServer, QuietHandler
from dlrhub_local.template import Function, Route

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
#: Seconds a connection may stay silent (a body shorter than its Content-Length, an idle keep-alive
#: connection) before it is answered 408 and closed: no request holds a thread for ever.
READ_TIMEOUT = 5.0
_DIGITS = re.compile(r"[0-9]{1,19}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")
TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")
JSON = [("content-type", "application/json")]


#: What the gateway tells of a request a function answered 4xx or 5xx: the route, the method,
#: the path parameters, the status and the reply's body.
OnRefused = Callable[[Route, str, dict[str, str], int, bytes], None]


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 256
    timeout_ms: int = 10_000
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.timeout_ms - (time.monotonic() - self.started) * 1000))


def load_module(function: Function) -> ModuleType:
    """Import a function's handler module by path, as Lambda would from its code directory."""
    name = f"dlrhub_fn_{function.logical_id}"
    spec = importlib.util.spec_from_file_location(name, function.source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {function.source}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_handler(function: Function) -> Callable[[dict, Any], dict]:
    return getattr(load_module(function), function.handler)


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "/?$")


class Router:
    def __init__(self, routes: list[Route]) -> None:
        # Literal segments first, as API Gateway prefers the most specific route.
        ranked = sorted(routes, key=lambda r: (-sum("{" not in s for s in r.path.split("/")), r.path))
        self._routes = [(route, _pattern(route.path)) for route in ranked]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self._routes:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


@dataclass
class Unreadable(Exception):
    """The request's framing cannot be read: answered ``status`` and the connection closed."""

    status: int
    message: str


def content_length(values: list[str]) -> int:
    """The body's length from the Content-Length header(s) (0 when absent); Unreadable (400) unless
    it is one whole number (repeats must agree), 413 over API Gateway's limit."""
    found = {value.strip() for value in values}
    if not found:
        return 0
    if len(found) > 1 or not _DIGITS.fullmatch(next(iter(found))):
        raise Unreadable(400, "Bad Request")
    length = int(found.pop())
    if length > MAX_BODY:
        raise Unreadable(413, "Request Entity Too Large")
    return length


def read_exactly(rfile: Any, length: int) -> bytes:
    """``length`` bytes; Unreadable (400) when the client closes first (a socket timeout propagates)."""
    body = rfile.read(length) if length else b""
    if len(body) < length:
        raise Unreadable(400, "Bad Request")
    return body


def read_chunked(rfile: Any, limit: int = MAX_BODY) -> bytes:
    """A ``Transfer-Encoding: chunked`` body, at most ``limit`` bytes; Unreadable when malformed or too large."""
    body = bytearray()
    while True:  # each pass reads a chunk of at least one byte or ends: bounded by ``limit``
        size_text = rfile.readline(1024).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise Unreadable(400, "Bad Request")
        size = int(size_text, 16)
        if size == 0:
            for _ in range(100):  # trailers, up to the blank line
                if rfile.readline(8192) in (b"\r\n", b"\n", b""):
                    return bytes(body)
            raise Unreadable(400, "Bad Request")
        if len(body) + size > limit:
            raise Unreadable(413, "Request Entity Too Large")
        body += read_exactly(rfile, size)
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise Unreadable(400, "Bad Request")


def build_event(
    route: Route, params: dict[str, str], method: str, target: str, headers: dict[str, str], body: bytes, ip: str
) -> dict[str, Any]:
    split = urlsplit(target)
    query = joined(parse_qsl(split.query, keep_blank_values=True))
    # As API Gateway does: the scheme the caller used (here always plain HTTP on loopback) and
    # its address, so a function can rebuild the URL that was called (what Twilio signs).
    headers = {**headers, "x-forwarded-proto": "http", "x-forwarded-for": ip}
    content_type = headers.get("content-type", "")
    is_text = not body or content_type.startswith(TEXT_TYPES)
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode()
    return event


def joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Names given more than once as API Gateway passes them on: once, the values comma-separated."""
    found: dict[str, str] = {}
    for key, value in pairs:
        found[key] = f"{found[key]},{value}" if key in found else value
    return found


def result_body(result: dict[str, Any]) -> bytes:
    """The body of a function's reply (base64 when it says so)."""
    raw = result.get("body") or ""
    return base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()


class Gateway:
    """Requests are served in threads, but the functions are invoked one at a time: in Lambda an
    execution environment serves one request at a time, and Powertools' event handler relies on it
    (it keeps the current event in a class attribute shared by every resolver in the process, so
    two requests at once, to one function or two, would answer each other's)."""

    def __init__(
        self,
        routes: list[Route],
        handlers: dict[str, Callable[[dict, Any], dict]],
        *,
        read_timeout: float = READ_TIMEOUT,
        on_refused: OnRefused | None = None,
        #: The local stack's own pages (page.py), asked first: True when one answered the request.
        local_pages: Callable[[GatewayHandler], bool] | None = None,
    ) -> None:
        self.router = Router(routes)
        self.handlers = handlers
        self.read_timeout = read_timeout
        self.on_refused = on_refused
        self.local_pages = local_pages
        self._one_at_a_time = threading.Lock()

    def invoke(self, route: Route, event: dict[str, Any]) -> dict[str, Any]:
        with self._one_at_a_time:
            return self.handlers[route.function](
                event, LambdaContext(route.function, event["requestContext"]["requestId"])
            )

    def serve(self, host: str, port: int) -> LoopbackServer:
        """A server (not yet serving) whose connections time out after ``read_timeout`` s of silence."""
        handler = type("Handler", (GatewayHandler,), {"gateway": self, "timeout": self.read_timeout})
        return LoopbackServer((host, port), handler)


class GatewayHandler(QuietHandler):
    """A connection's requests, each in three steps: its body read, then a page of the stack's own, else
    the route's function. Every method reaches them: like API Gateway, a method no route takes gets
    404, never http.server's 501."""

    server_version = "dlrhub-local"
    gateway: Gateway  # set by Gateway.serve, with ``timeout`` (every read and write of the connection)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self.handle_request
        raise AttributeError(name)

    def handle_request(self) -> None:
        body = self.read_body()
        if body is None or (self.gateway.local_pages is not None and self.gateway.local_pages(self)):
            return
        matched = self.gateway.router.match(self.command, urlsplit(self.path).path)
        if matched is None:
            self.answer(404, b'{"message":"Not Found"}', JSON)
            return
        self.invoke(*matched, body)

    def read_body(self) -> bytes | None:
        """The body; None once answered 400/408/413 (the connection is then closed: its framing is lost)."""
        try:
            chunked = self.headers.get_all("transfer-encoding") or []
            lengths = self.headers.get_all("content-length") or []
            if chunked:
                if lengths or [value.strip().lower() for value in chunked] != ["chunked"]:
                    raise Unreadable(400, "Bad Request")
                return read_chunked(self.rfile)
            return read_exactly(self.rfile, content_length(lengths))
        except Unreadable as error:
            self.refuse(error.status, error.message)
        except TimeoutError:
            self.refuse(408, "Request Timeout")
        except OSError:  # reset by the client
            self.close_connection = True
        return None

    def invoke(self, route: Route, params: dict[str, str], body: bytes) -> None:
        """The route's function with the request as its event; its reply sent, a refusal told."""
        headers = joined((key.lower(), value) for key, value in self.headers.items())
        event = build_event(route, params, self.command, self.path, headers, body, self.client_address[0])
        try:
            result = self.gateway.invoke(route, event)
        except Exception:
            traceback.print_exc()
            self.answer(500, b'{"message":"Internal Server Error"}', JSON)
            return
        status, reply = int(result.get("statusCode", 200)), result_body(result)
        given = {key.lower(): str(value) for key, value in (result.get("headers") or {}).items()}
        given.pop("content-length", None)
        cookies = [("set-cookie", cookie) for cookie in result.get("cookies") or []]
        self.answer(status, reply, [*({"content-type": "application/json"} | given).items(), *cookies])
        if status >= 400 and self.gateway.on_refused is not None:
            self.gateway.on_refused(route, self.command, params, status, reply)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a bad request line, too long a URL or header) as API Gateway
        words them: its page would echo the request line, secrets in the path included."""
        if self.request_version == "HTTP/0.9":  # not parsed so far: a status line all the same
            self.request_version = "HTTP/1.1"
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.refuse(code, phrase)

    def refuse(self, status: int, message: str) -> None:
        """``{"message": …}``, and the connection closed (sending that header closes it)."""
        self.answer(status, json.dumps({"message": message}).encode(), [*JSON, ("connection", "close")])
