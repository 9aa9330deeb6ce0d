"""A fault-injecting TCP proxy on loopback, in front of a real engine (DynamoDB Local, moto server).

Its ``mode`` is switched at run time:

* ``pass``: bytes flow both ways;
* ``refuse``: the engine is down: every open connection is reset, and each new one is accepted and
  reset at once;
* ``hang``: the engine hangs: new connections are accepted and never answered, and open ones
  stop moving bytes (nothing is forwarded either way);
* ``cut``: the reply is lost: requests reach the engine (a write is done), but each connection
  is reset after at most ``cut_after`` bytes of the engine's reply.

Leaving ``hang`` or ``refuse`` resets the connections it held, as a restarted server's peers see.
Every wait is short and on the stop event: ``stop()`` ends every thread within a second.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

Mode = Literal["pass", "refuse", "hang", "cut"]
MODES: tuple[Mode, ...] = ("pass", "refuse", "hang", "cut")
LOOPBACK = "127.0.0.1"
TICK = 0.05  # seconds between looks at the mode


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed server's connection ends."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@dataclass(eq=False)
class _Link:
    """One client connection and (once connected) its upstream connection."""

    client: socket.socket
    upstream: socket.socket | None = None
    replied: int = 0
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self, *, hard: bool) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.upstream):
            if sock is not None:
                if hard:
                    reset(sock)
                else:
                    with contextlib.suppress(OSError):
                        sock.close()


class FaultProxy:
    """``FaultProxy(("127.0.0.1", 8000)).start()``; ``proxy.url`` is what clients use; ``proxy.mode = "hang"``."""

    def __init__(self, upstream: tuple[str, int], *, cut_after: int = 0) -> None:
        self.upstream = upstream
        self.cut_after = cut_after
        self._mode: Mode = "pass"
        #: (time.monotonic(), mode) of each switch, the first the start.
        self.history: list[tuple[float, Mode]] = [(time.monotonic(), "pass")]
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        #: What happened: connections accepted, refused, cut; bytes each way.
        self.counts: Counter[str] = Counter()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, 0))
        listener.listen(128)
        listener.settimeout(TICK)
        self._listener = listener
        self._spawn(self._accept, "proxy-accept")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads[:1]:  # the accept loop: no link is added after it ended
            thread.join(2)
        with self._lock:
            links, threads = list(self._links), list(self._threads)
        for link in links:
            link.close(hard=True)
        for thread in threads:
            thread.join(2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the proxy is not started")
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # -- the mode ----------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self._lock:
            before = self._mode
            if mode == "refuse" or (before in ("hang", "refuse") and mode != before):
                # The engine went down, or came back: its old connections are gone. Reset them before
                # the new mode shows, so no link thread serves a held connection in it (a race in CI).
                for link in self._links:
                    link.close(hard=True)
            self._mode = mode
            self.history.append((time.monotonic(), mode))

    @contextlib.contextmanager
    def switched(self, mode: Mode = "pass") -> Iterator[None]:
        """In ``mode`` while the block runs, then passing again, whatever happens."""
        self.mode = mode
        try:
            yield
        finally:
            self.mode = "pass"

    def modes_between(self, start: float, end: float) -> list[Mode]:
        """The modes the proxy was in at any time from ``start`` to ``end`` (time.monotonic())."""
        with self._lock:
            history = list(self.history)
        found = [mode for (at, mode), (until, _) in zip(history, [*history[1:], (float("inf"), "pass")], strict=True)
                 if at <= end and until >= start]  # fmt: skip
        return list(dict.fromkeys(found))

    def _count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def open_links(self) -> int:
        with self._lock:
            return sum(not link.closed.is_set() for link in self._links)

    # -- serving -----------------------------------------------------------------------

    def _spawn(self, target: object, name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads = self._threads[:1] + [t for t in self._threads[1:] if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            self._count("accepted")
            if self._mode == "refuse":
                self._count("refused")
                reset(client)
                continue
            client.settimeout(5.0)  # a client that stops reading cannot hold a thread for ever
            link = _Link(client)
            with self._lock:
                self._links.add(link)
            self._spawn(self._serve, "proxy-link", link)

    def _serve(self, link: _Link) -> None:
        try:
            while self._mode == "hang" and not self._stalled_out(link):
                pass
            if link.closed.is_set() or self._stop.is_set():
                return
            try:
                link.upstream = socket.create_connection(self.upstream, timeout=2.0)
            except OSError:
                link.close(hard=True)
                return
            self._pump(link)
        finally:
            link.close(hard=False)
            with self._lock:
                self._links.discard(link)

    def _stalled_out(self, link: _Link) -> bool:
        """Wait a tick while hung; True when the link or the proxy ended meanwhile."""
        return link.closed.wait(TICK) or self._stop.is_set()

    def _pump(self, link: _Link) -> None:
        """Both directions in one loop (select), so a mode change is seen within a tick."""
        assert link.upstream is not None
        client, upstream = link.client, link.upstream
        while not link.closed.is_set() and not self._stop.is_set():
            if self._mode == "hang":
                if self._stalled_out(link):
                    return
                continue
            try:
                readable, _, _ = select.select([client, upstream], [], [], TICK)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return  # one side closed: close both
                    if sock is client:
                        upstream.sendall(data)
                        self._count("bytes_up", len(data))
                    else:
                        self._reply(link, data)
            except OSError:
                return
            except ValueError:  # a socket closed under select by a mode change
                return

    def _reply(self, link: _Link, data: bytes) -> None:
        if self._mode != "cut":
            link.client.sendall(data)
            self._count("bytes_down", len(data))
            return
        room = max(0, self.cut_after - link.replied)
        if room:
            link.client.sendall(data[:room])
            link.replied += min(room, len(data))
        if len(data) >= room:
            self._count("cut")
            link.close(hard=True)
