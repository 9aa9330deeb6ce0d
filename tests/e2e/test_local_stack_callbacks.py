"""Customer callbacks in the local stack: a stored report reaches the URL given with --callback-url."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.stack_process import StackProcess, local_stack

pytestmark = pytest.mark.slow

KEY = "callback-key-0123456789"


class Receiver:
    """The customer's HTTPS endpoint, on loopback: every POST's headers and JSON body."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[dict[str, str], Any]] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.received.put(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/dlr-events"

    def next(self, timeout: float = 30.0) -> tuple[dict[str, str], Any]:
        return self.received.get(timeout=timeout)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[StackProcess]:
    config = Path(tmp_path_factory.mktemp("callbacks")) / "local.json"
    options = ("--no-demo", "--verbose", "--poll-every", "0", "--report-every", "0", "--callback-url", receiver.url)
    with local_stack(config, *options, "--callback-final-only", "--callback-secret", KEY) as running:
        yield running


def test_a_final_status_reaches_the_callback_url_with_the_key_and_no_number(
    stack: StackProcess, receiver: Receiver
) -> None:
    url = stack.webhook_url("infin8linx")
    pending = requests.get(url, params={"msgid": "77000001", "das": "628131565746", "state": "0"}, timeout=10)
    delivered = requests.get(url, params={"msgid": "77000001", "das": "628131565746", "state": "1"}, timeout=10)
    assert (pending.status_code, delivered.status_code) == (200, 200)

    headers, detail = receiver.next()  # final statuses only: the PENDING one is not called back

    assert headers["x-api-key"] == KEY
    assert (detail["provider"], detail["account"], detail["message_id"]) == ("infin8linx", "demo", "77000001")
    assert (detail["status"], detail["final"], detail["previous_status"]) == ("DELIVERED", True, "PENDING")
    assert detail["version"] == "1"
    assert "628131565746" not in json.dumps(detail)
    assert receiver.received.empty()
    assert KEY not in "".join(stack.seen)  # the key is never printed
    assert any("callbacks   POST final statuses to" in line for line in stack.seen)


def test_the_run_printed_no_secret_and_no_full_number(stack: StackProcess) -> None:
    """Everything the stack printed after its banner (the functions' INFO logs included,
    --verbose) while the callbacks above ran: no account secret, callback key or full phone
    number. (The banner shows example commands with the local accounts' own URLs: for you to copy.)"""
    stack.read_for(2)
    ready = next(index for index, line in enumerate(stack.seen) if line.startswith("ready"))
    text = "".join(stack.seen[ready:])
    assert "stored      infin8linx/demo 77000001" in text  # the run's lines were captured at all
    secrets = [
        value for account in json.loads(stack.config.read_text())["accounts"].values() for value in account.values()
    ]
    for secret in [KEY, "628131565746", *(str(value) for value in secrets if len(str(value)) >= 12)]:
        assert secret not in text
