"""The local stack's page at ``/``: static files from ``page/``, and the live feed as server-sent events.

The gateway asks :meth:`Pages.serve` before the template's routes; it answers ``GET``/``HEAD``
of ``/``, ``/page/<file>``, ``/local/feed`` and the ``fixed`` pages (the API's documentation, say)
and leaves everything else to the routes. The
page reads ``GET /scorecard`` through the gateway like any client, and the feed
(``text/event-stream``: one ``id:``/``data:`` event per entry of :class:`~dlrhub_local.feed.Feed`)
for the messages arriving. A feed connection lasts at most ``stream_seconds``; the browser's
EventSource then reconnects by itself with the last id it got (``Last-Event-ID``), so no
connection holds a thread for long and none misses an entry still kept.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dlrhub_local.feed import Feed
from dlrhub_local.loopback_http import QuietHandler

PAGE_DIR = Path(__file__).with_name("page")
FEED_PATH = "/local/feed"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: Only the page's own files run: no inline script, nothing from another origin.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
#: Entries a newly opened page is shown from before it opened.
BACKLOG = 100
STREAM_SECONDS = 25.0
HEARTBEAT_SECONDS = 10.0
RETRY_MS = 1000
_ID = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class Page:
    """A fixed page the local stack serves beside the template's routes; ``read`` gives its bytes."""

    content_type: str
    read: Callable[[], bytes]


def page_files(directory: Path = PAGE_DIR) -> dict[str, Path]:
    """URL path -> file: ``/`` is index.html; every other file of ``directory`` under ``/page/``."""
    files = {f"/page/{path.name}": path for path in sorted(directory.iterdir()) if path.suffix in CONTENT_TYPES}
    files["/"] = directory / "index.html"
    return files


def first_id(last_event_id: str | None, after: str | None, latest: int) -> int:
    """The id after which a feed connection starts: the browser's Last-Event-ID (a reconnection), else
    ``?after=``, else the last :data:`BACKLOG` entries."""
    for given in (last_event_id, after):
        if given is not None and _ID.fullmatch(given.strip()):
            return int(given.strip())
    return max(0, latest - BACKLOG)


def event_text(entry: dict[str, object]) -> bytes:
    return f"id: {entry['id']}\ndata: {json.dumps(entry, separators=(',', ':'))}\n\n".encode()


@dataclass
class Pages:
    """Answers the page's requests on the gateway's connection (``serve``), else leaves them to the routes."""

    feed: Feed
    directory: Path = PAGE_DIR
    stream_seconds: float = STREAM_SECONDS
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    fixed: Mapping[str, Page] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.files = page_files(self.directory)

    def serve(self, request: QuietHandler) -> bool:
        """True once ``request`` is answered here; False: a route's business (or a 404)."""
        if request.command not in ("GET", "HEAD"):
            return False
        url = urlsplit(request.path)
        if url.path == FEED_PATH:
            after = parse_qs(url.query).get("after", [None])[0]
            self._stream(request, first_id(request.headers.get("last-event-id"), after, self.feed.last))
            return True
        file, page = self.files.get(url.path), self.fixed.get(url.path)
        if file is not None:
            headers = {"content-type": CONTENT_TYPES[file.suffix], "cache-control": "no-cache", **SECURITY_HEADERS}
            request.answer(200, file.read_bytes(), headers.items())
        elif page is not None:
            request.answer(200, page.read(), [("content-type", page.content_type)])
        return file is not None or page is not None

    def _stream(self, request: QuietHandler, after: int) -> None:
        """Entries after ``after`` as they come, for at most ``stream_seconds``; a comment line when idle."""
        request.close_connection = True
        try:
            request.send_response(200)
            request.send_header("content-type", "text/event-stream; charset=utf-8")
            request.send_header("cache-control", "no-store")
            request.send_header("connection", "close")
            request.end_headers()
            if request.command == "HEAD":
                return
            request.wfile.write(f"retry: {RETRY_MS}\n\n".encode())
            deadline = time.monotonic() + self.stream_seconds
            while (left := deadline - time.monotonic()) > 0 and not self.feed.closed:
                entries = self.feed.since(after, min(left, self.heartbeat_seconds))
                for entry in entries:
                    request.wfile.write(event_text(entry))
                    after = int(str(entry["id"]))
                if not entries:
                    request.wfile.write(b": idle\n\n")
                request.wfile.flush()
        except OSError:  # the browser closed the page or reconnects
            return
