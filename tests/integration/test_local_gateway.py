"""The local API gateway over real HTTP: requests in threads, the functions invoked one at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from dlrhub_local.gateway import Gateway
from dlrhub_local.processes import LOOPBACK
from dlrhub_local.template import Route


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
