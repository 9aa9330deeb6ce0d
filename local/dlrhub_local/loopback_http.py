"""What the local stack's HTTP servers share (the gateway, the simulators, the Lambda API): a threaded
server on loopback, and a request handler that keeps quiet and answers in one call."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    """A thread per connection (daemons: none holds the stack up when it stops)."""

    daemon_threads = True
    #: Connections waiting to be accepted: socketserver's 5 drops the SYNs of a burst of new connections
    #: (a poller's, a load test's), which then wait a second or more for the client's retransmit.
    request_queue_size = 128

    _serving = False

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._serving = True
        super().serve_forever(poll_interval)

    def serve_in_thread(self, name: str, poll_interval: float = 0.5) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": poll_interval}, name=name, daemon=True
        )
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop serving, if it serves (``shutdown`` would wait for ever for a loop never started), and close."""
        if self._serving:
            self.shutdown()
        self.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive; no access log (paths and queries carry secrets); no Nagle delay: headers and
    body go out as two writes, which Nagle would hold until the client's delayed ACK (40 ms on Linux)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        """The whole reply (no body to HEAD); a client that is gone (reset, broken pipe, timeout) ends the
        connection, with nothing to tell it."""
        try:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            self.close_connection = True
