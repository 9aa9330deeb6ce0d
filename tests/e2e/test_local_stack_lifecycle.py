"""The local stack's life: stopped by SIGINT even as a background job, with every process it
started; its table kept between runs with ``--data-dir``."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.stack_process import local_stack, require_dynamodb_local

pytestmark = pytest.mark.slow

QUIET = ("--no-demo", "--poll-every", "0", "--report-every", "0")


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``: their command lines (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that is gone is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def listening(endpoint: str) -> bool:
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads child processes from /proc (Linux)")
def test_sigint_stops_a_background_stack_and_every_process_it_started(tmp_path: Path) -> None:
    with local_stack(tmp_path / "local.json", *QUIET, background=True) as stack:
        require_dynamodb_local(stack)
        started = children(stack.process.pid)
        assert any("DynamoDBLocal.jar" in command for command in started.values()), started
        assert any("moto.server" in command for command in started.values()), started
        endpoints = [stack.url, stack.dynamodb, stack.moto]
        assert all(listening(endpoint) for endpoint in endpoints)
        stack.process.send_signal(signal.SIGINT)  # ignored by default in this process: handled all the same
        assert stack.process.wait(30) == 0
    assert not [endpoint for endpoint in endpoints if listening(endpoint)]
    assert not [pid for pid in started if alive(pid)]


def test_data_dir_keeps_the_table_between_runs(tmp_path: Path) -> None:
    config, data = tmp_path / "local.json", tmp_path / "data"
    callback = {"msgid": "7600000001", "das": "628131565746", "state": "1"}
    with local_stack(config, *QUIET, "--data-dir", str(data)) as first:
        require_dynamodb_local(first)
        assert f"data in {data}" in next(line for line in first.seen if "DynamoDB (" in line)
        assert requests.get(first.webhook_url("infin8linx"), params=callback, timeout=10).text == "OK"
        first.wait_for_line(r"stored\s+infin8linx/demo 7600000001 -> DELIVERED")
        positions = data / "stream-positions.json"
        deadline = time.monotonic() + 30
        while not positions.exists() and time.monotonic() < deadline:  # handed to the stream function
            first.read_for(0.2)
        assert positions.exists()
    with local_stack(config, *QUIET, "--data-dir", str(data)) as second:
        kept = second.message("infin8linx", "7600000001")
        assert (kept.status_code, kept.json()["status"]) == (200, "DELIVERED")
        again = {**callback, "msgid": "7600000002"}
        assert requests.get(second.webhook_url("infin8linx"), params=again, timeout=10).text == "OK"
        second.wait_for_line(r"stored\s+infin8linx/demo 7600000002 -> DELIVERED")
        # The stream went on from where the first run left it: the first report is not handed over again.
        assert not [line for line in second.seen if "7600000001" in line]
