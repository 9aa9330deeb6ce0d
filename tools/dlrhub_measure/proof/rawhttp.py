"""A raw HTTP/1.1 client over a socket: sends exactly the bytes given, reads one reply.

The hostile suite needs what ordinary clients refuse to send (a path with bytes that are not
UTF-8, a ``Content-Length`` that lies, duplicated headers), and thousands of requests a second
from one process: one keep-alive connection per sender, re-opened when the server closes it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

#: Most bytes of a reply read (the hub's replies are small; a huge one is a finding in itself).
MAX_REPLY = 4 * 1024 * 1024


class NoReply(Exception):
    """The server closed the connection (or went silent) without a complete reply."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float
    #: The server said it closes the connection (or it was HTTP/1.0).
    closes: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def line_breaks_inside(data: bytes) -> bool:
    """A CR or LF inside the request line or a header (injected by a hostile value): the server may
    end the head early and read what follows as another request, whose reply the next request on
    the connection would take for its own."""
    head = data.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    return any(b"\r" in line or b"\n" in line for line in lines)


def request_bytes(
    method: str,
    target: str | bytes,
    host: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    content_length: str | None = None,
) -> bytes:
    """A request as bytes. ``target`` may be bytes (sent as is); ``content_length`` overrides the
    header's value ("" leaves it out)."""
    raw_target = target if isinstance(target, bytes) else target.encode("latin-1", "strict")
    lines = [method.encode("latin-1") + b" " + raw_target + b" HTTP/1.1", f"Host: {host}".encode()]
    for name, value in headers or []:
        lines.append(f"{name}: {value}".encode("latin-1", "replace"))
    length = str(len(body)) if content_length is None else content_length
    if length != "" and (body or content_length is not None or method in ("POST", "PUT", "PATCH")):
        lines.append(f"Content-Length: {length}".encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass
class Connection:
    """One keep-alive connection to ``host:port`` (opened on first use, again after a close)."""

    host: str
    port: int
    timeout: float = 30.0
    _sock: socket.socket | None = field(default=None, repr=False)
    _buffer: bytes = field(default=b"", repr=False)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock, self._buffer = sock, b""
        return self._sock

    def send(self, data: bytes, *, half_close: bool = False, head: bool = False) -> Reply:
        """Send ``data`` (one request) and read its reply. A stale keep-alive connection (closed by the
        server while idle) is opened anew once. ``half_close``: shut the write side after sending;
        ``head``: the reply has no body whatever its Content-Length (a HEAD request)."""
        if self._buffer:  # bytes of a reply no request asked for: never taken for this one's
            self.close()
        for attempt in (1, 2):
            fresh = self._sock is None
            sock = self._connect()
            started = time.monotonic()
            try:
                try:
                    sock.sendall(data)
                    if half_close:
                        sock.shutdown(socket.SHUT_WR)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server may have answered already (a 413 before the body) and closed: read it
                reply = self._read(started, head)
            except (ConnectionResetError, BrokenPipeError, NoReply):
                self.close()
                if fresh or attempt == 2:
                    raise NoReply("the connection closed without a reply") from None
                continue
            except TimeoutError:
                self.close()
                raise NoReply(f"no reply within {self.timeout} s") from None
            if reply.closes:
                self.close()
            return reply
        raise NoReply("unreachable")  # pragma: no cover

    def _fill(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise NoReply("closed")
        self._buffer += chunk
        if len(self._buffer) > MAX_REPLY:
            raise NoReply("reply too large")

    def _read(self, started: float, no_body: bool) -> Reply:
        for _ in range(10):  # interim replies (100 Continue) are passed over
            while b"\r\n\r\n" not in self._buffer:
                self._fill()
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            version, status = status_line.split(" ", 2)[:2]
            if not status.startswith("1"):
                break
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if no_body else int(headers.get("content-length", "0"))
        while len(self._buffer) < length:
            self._fill()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        closes = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
        return Reply(int(status), headers, body, time.monotonic() - started, closes)
