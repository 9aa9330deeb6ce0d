"""The page's files and its live feed over real HTTP through the local gateway."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from dlrhub_local.feed import Feed
from dlrhub_local.gateway import Gateway
from dlrhub_local.page import BACKLOG, Pages, first_id
from dlrhub_local.processes import LOOPBACK
from dlrhub_local.template import Route


@pytest.fixture
def served() -> Iterator[tuple[str, Feed]]:
    feed = Feed()
    echo = {"Echo": lambda event, context: {"statusCode": 200, "body": event["rawPath"]}}
    pages = Pages(feed, stream_seconds=1.0, heartbeat_seconds=0.3)
    server = Gateway([Route("POST", "/", "Echo"), Route("GET", "/stats", "Echo")], echo, local_pages=pages.serve).serve(
        LOOPBACK, 0
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}", feed
    finally:
        feed.close()
        server.shutdown()
        server.server_close()


def events(url: str, headers: dict[str, str] | None = None, query: str = "") -> list[dict]:
    """The feed's entries in one connection (it ends by itself after stream_seconds)."""
    started = time.monotonic()
    reply = requests.get(url + "/local/feed" + query, headers=headers or {}, timeout=5)
    assert time.monotonic() - started < 3
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.text.startswith("retry: ")
    found = []
    for block in reply.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":") and ": " in line)
        if "data" in lines:
            entry = json.loads(lines["data"])
            assert int(lines["id"]) == entry["id"]
            found.append(entry)
    return found


def test_the_page_and_its_files(served: tuple[str, Feed]) -> None:
    url, _ = served
    page = requests.get(url + "/", timeout=5)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/page/page.js">' in page.text
    for name, kind in (("page.js", "text/javascript"), ("scorecard.js", "text/javascript"), ("page.css", "text/css")):
        reply = requests.get(f"{url}/page/{name}", timeout=5)
        assert (reply.status_code, reply.headers["content-type"].split(";")[0]) == (200, kind)
    assert requests.head(url + "/", timeout=5).headers["content-length"] == str(len(page.content))


def test_anything_else_goes_to_the_routes(served: tuple[str, Feed]) -> None:
    url, _ = served
    assert requests.post(url + "/", timeout=5).text == "/"  # a route of the template would win for POST
    assert requests.get(url + "/stats", timeout=5).text == "/stats"
    for path in ("/page/missing.js", "/page/../gateway.py", "/page/%2e%2e/gateway.py", "/index.html"):
        assert requests.get(url + path, timeout=5).status_code == 404, path


def test_the_feed_streams_the_backlog_then_resumes_after_the_last_id(served: tuple[str, Feed]) -> None:
    url, feed = served
    for n in range(3):
        feed.publish({"n": n})
    assert [entry["n"] for entry in events(url)] == [0, 1, 2]
    assert [entry["n"] for entry in events(url, {"Last-Event-ID": "2"})] == [2]
    threading.Timer(0.3, lambda: feed.publish({"n": 3})).start()  # while the connection waits
    assert [entry["n"] for entry in events(url, {"Last-Event-ID": "3"})] == [3]
    assert [entry["n"] for entry in events(url, query="?after=2")] == [2, 3]


def test_where_a_connection_starts() -> None:
    assert first_id("7", None, 500) == 7
    assert first_id(None, "9", 500) == 9
    assert first_id("junk", None, 500) == 500 - BACKLOG
    assert first_id(None, None, 3) == 0
