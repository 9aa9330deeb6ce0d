"""The local API gateway over real HTTP: requests in threads, the functions invoked one at a time."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from dlrhub_local.gateway import MAX_BODY, Gateway
from dlrhub_local.processes import LOOPBACK
from dlrhub_local.template import Route
from dlrhub_measure.proof.rawhttp import Connection, Reply, request_bytes


class Busy:
    """A function that takes a moment; counts how many invocations run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.active += 1
            self.calls += 1
            self.most = max(self.most, self.active)
        time.sleep(0.02)
        with self.lock:
            self.active -= 1
        return {"statusCode": 200, "body": event["rawPath"]}


def test_two_functions_are_never_invoked_at_once() -> None:
    """Powertools' event handler keeps the current event in a class attribute shared by every
    resolver of the process: two invocations at once would answer each other's requests."""
    busy = Busy()
    routes = [Route("GET", "/a/{n}", "A"), Route("GET", "/b/{n}", "B")]
    server = Gateway(routes, {"A": busy, "B": busy}).serve(LOOPBACK, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{LOOPBACK}:{server.server_address[1]}"
    try:
        paths = [f"/{function}/{n}" for n in range(10) for function in ("a", "b")]
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda path: requests.get(url + path, timeout=30).text, paths))
    finally:
        server.shutdown()
        server.server_close()
    assert replies == paths  # each request answered for itself
    assert (busy.calls, busy.most) == (len(paths), 1)


# -- framing a client gets wrong (raw sockets): answered as API Gateway would, never a hung thread ----


class Echo:
    """Answers each request with the body it got, and counts the invocations."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls += 1
        return {"statusCode": 200, "body": event.get("body", ""), "isBase64Encoded": event.get("isBase64Encoded")}


@pytest.fixture
def echo() -> Iterator[tuple[Echo, int]]:
    """A gateway whose connections time out after 0.5 s of silence; (function, port)."""
    function = Echo()
    server = Gateway([Route("POST", "/echo", "E")], {"E": function}, read_timeout=0.5).serve(LOOPBACK, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield function, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket's timeout bounds each wait)."""
    received = b""
    for _ in range(1000):
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError("the server kept sending")


def post(port: int, headers: list[tuple[str, str]], body: bytes, content_length: str | None = None) -> Reply:
    connection = Connection(LOOPBACK, port, timeout=10)
    try:
        data = request_bytes("POST", "/echo", "x", headers=headers, body=body, content_length=content_length)
        return connection.send(data)
    finally:
        connection.close()


@pytest.mark.parametrize("length", ["abc", "-1", "+5", "5, 5", "0x10", "1e3", " ", "9" * 20])
def test_a_content_length_that_is_not_a_whole_number_is_400_and_the_connection_closed(
    echo: tuple[Echo, int], length: str
) -> None:
    function, port = echo
    reply = post(port, [], b"hello", content_length=length)
    assert (reply.status, reply.closes) == (400, True)
    assert json.loads(reply.body) == {"message": "Bad Request"}
    assert function.calls == 0


def test_two_content_lengths_that_disagree_are_400(echo: tuple[Echo, int]) -> None:
    function, port = echo
    reply = post(port, [("Content-Length", "3")], b"hello")
    assert (reply.status, function.calls) == (400, 0)
    agreeing = post(port, [("Content-Length", "5")], b"hello")
    assert (agreeing.status, agreeing.body) == (200, b"hello")


def test_a_body_shorter_than_its_content_length_is_408_after_the_read_timeout(echo: tuple[Echo, int]) -> None:
    """Before: the thread waited for the missing bytes for ever."""
    function, port = echo
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        sock.sendall(request_bytes("POST", "/echo", "x", body=b"short", content_length="100"))
        started = time.monotonic()
        reply = until_closed(sock)  # answered, and the connection closed
        waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert b'{"message": "Request Timeout"}' in reply
    assert function.calls == 0
    print(f"answered 408 after {waited:.2f} s")
    assert post(port, [], b"next").body == b"next"  # the server still serves


def test_a_client_gone_mid_body_leaves_nothing_stuck(echo: tuple[Echo, int]) -> None:
    function, port = echo
    for _ in range(20):
        with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
            sock.sendall(request_bytes("POST", "/echo", "x", body=b"part", content_length="1000"))
    assert post(port, [], b"after").body == b"after"
    assert function.calls == 1


def test_a_body_over_the_limit_is_413_and_its_bytes_are_not_read_as_a_request(echo: tuple[Echo, int]) -> None:
    function, port = echo
    smuggled = request_bytes("POST", "/echo", "x", body=b"smuggled")
    reply = post(port, [], smuggled, content_length=str(MAX_BODY + 1))
    assert (reply.status, reply.closes, function.calls) == (413, True, 0)


def test_a_chunked_body_reaches_the_function_whole(echo: tuple[Echo, int]) -> None:
    _, port = echo
    body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n"
    reply = post(port, [("Transfer-Encoding", "chunked")], body, content_length="")
    assert (reply.status, reply.body) == (200, b"hello, world")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ([("Transfer-Encoding", "chunked")], b"zz\r\nhello\r\n0\r\n\r\n"),  # size not hex
        ([("Transfer-Encoding", "chunked")], b"5\r\nhelloXX0\r\n\r\n"),  # no CRLF after the data
        ([("Transfer-Encoding", "chunked"), ("Content-Length", "5")], b"5\r\nhello\r\n0\r\n\r\n"),  # both
        ([("Transfer-Encoding", "gzip")], b"hello"),
    ],
)
def test_malformed_chunked_framing_is_400(echo: tuple[Echo, int], headers: list[tuple[str, str]], body: bytes) -> None:
    function, port = echo
    reply = post(port, headers, body, content_length="" if len(headers) == 1 else None)
    assert (reply.status, reply.closes, function.calls) == (400, True, 0)


def test_an_idle_keep_alive_connection_is_closed_after_the_read_timeout(echo: tuple[Echo, int]) -> None:
    _, port = echo
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        sock.sendall(request_bytes("POST", "/echo", "x", body=b"one"))
        started = time.monotonic()
        first = until_closed(sock)  # closed by the server, not held open for ever
        waited = time.monotonic() - started
    assert first.startswith(b"HTTP/1.1 200 ")
    assert first.endswith(b"\r\n\r\none")
    print(f"idle connection closed after {waited:.2f} s")


@pytest.mark.parametrize(
    "request_line",
    [
        b"POST /echo/s3cret-in-the-path\xff?pswd=hunter2 HTTP/1.1\r\n",  # bytes no route takes: 404
        b"GET /echo/s3cret-in-the-path?pswd=hunter2 HTTP/9.9\r\n",  # a version it refuses
        b"GET /echo/s3cret-in-the-path?pswd=hunter2 HTTP/1.1 extra\r\n",  # too many words
        b"GET /" + b"s3cret-in-the-path" * 4000 + b" HTTP/1.1\r\n",  # over http.server's 64 KiB line
    ],
)
def test_a_request_line_http_server_refuses_is_answered_without_echoing_it(
    echo: tuple[Echo, int], request_line: bytes
) -> None:
    """Before: http.server's HTML error page quoted the request line, the secret in the path with it."""
    function, port = echo
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        sock.sendall(request_line + b"Host: x\r\n\r\n")
        reply = until_closed(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] in (b"400", b"404", b"414", b"505"), head
    assert b"s3cret" not in reply
    assert b"hunter2" not in reply
    assert json.loads(body)["message"]
    assert function.calls == 0
