"""The fault proxy itself, against an echo server: each mode does what it says, switched at run time."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from dlrhub_measure.proof import faultproxy
from dlrhub_measure.proof.faultproxy import LOOPBACK, FaultProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data * 2)  # a reply longer than the request
        except ConnectionResetError:
            pass


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    server = socketserver.ThreadingTCPServer((LOOPBACK, 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with FaultProxy(server.server_address, cut_after=3) as running:  # type: ignore[arg-type]
            yield running
    finally:
        server.shutdown()
        server.server_close()


def connect(proxy: FaultProxy, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection((LOOPBACK, proxy.port), timeout=timeout)


def exchange(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    received = b""
    while len(received) < 2 * len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_pass_forwards_both_ways(proxy: FaultProxy) -> None:
    with connect(proxy) as sock:
        assert exchange(sock, b"hello") == b"hellohello"
    assert proxy.counts["bytes_up"] == 5


def test_refuse_resets_open_and_new_connections(proxy: FaultProxy) -> None:
    with connect(proxy) as open_one:
        assert exchange(open_one, b"a") == b"aa"
        proxy.mode = "refuse"
        time.sleep(0.1)
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            exchange(open_one, b"b")
    with pytest.raises((ConnectionResetError, BrokenPipeError)), connect(proxy) as new_one:
        exchange(new_one, b"c")  # reset at connect, at send or at the first read
    assert proxy.counts["refused"] >= 1
    proxy.mode = "pass"
    with connect(proxy) as again:
        assert exchange(again, b"d") == b"dd"


@pytest.fixture(params=["quick", "slow"])
def reset_speed(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``slow``: each hard close takes 0.3 s, as a loaded machine's scheduler may make it (CI saw the race)."""
    if request.param == "slow":
        close = faultproxy._Link.close

        def slow_close(link: faultproxy._Link, *, hard: bool) -> None:
            if hard:
                time.sleep(0.3)
            close(link, hard=hard)

        monkeypatch.setattr(faultproxy._Link, "close", slow_close)
    return str(request.param)


def test_hang_answers_nothing_until_it_ends_and_then_resets_what_it_held(proxy: FaultProxy, reset_speed: str) -> None:
    """However long resetting the held connections takes, none of them is served in the new mode meanwhile."""
    with connect(proxy, timeout=0.3) as open_one:
        assert exchange(open_one, b"a") == b"aa"
        proxy.mode = "hang"
        with connect(proxy, timeout=0.3) as new_one:
            for sock in (open_one, new_one):
                sock.sendall(b"x")
                with pytest.raises(TimeoutError):
                    sock.recv(10)
            proxy.mode = "pass"
            for sock in (open_one, new_one):
                sock.settimeout(2)
                with pytest.raises(ConnectionResetError):
                    sock.recv(10)
    with connect(proxy) as after:
        assert exchange(after, b"b") == b"bb"


def test_cut_lets_the_request_through_and_resets_the_reply(proxy: FaultProxy) -> None:
    proxy.mode = "cut"
    with connect(proxy) as sock:
        sock.sendall(b"hello")
        received = sock.recv(65536)
        with pytest.raises(ConnectionResetError):
            sock.recv(65536)
    assert received == b"hel"  # cut_after=3 bytes of the reply
    assert proxy.counts["bytes_up"] == 5  # the request reached the server whole
    assert proxy.counts["cut"] == 1


def test_stop_ends_every_connection(proxy: FaultProxy) -> None:
    proxy.mode = "hang"
    sockets = [connect(proxy) for _ in range(5)]
    proxy.stop()
    assert proxy.open_links() == 0
    for sock in sockets:
        with pytest.raises(ConnectionResetError):
            sock.recv(10)
        sock.close()
