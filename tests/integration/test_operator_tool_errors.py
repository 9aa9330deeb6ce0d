"""make recount and make replay fail in one line (what is missing, how to give it), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dlrhub_local.processes import Server
from tests.support import DUMMY_AWS, ROOT

RANGE = ("--accounts", "infin8linx/main", "--from", "2026-11-25T00:00:00Z", "--to", "2026-11-26T00:00:00Z")
RECOUNT = ("dlrhub_tools.recount", "--table", "T", *RANGE)
REPLAY = ("dlrhub_tools.replay", "--table", "T", "--queue-url", "http://127.0.0.1:1/q", "--accounts", "infin8linx/main")
#: No AWS configuration at all: no region, no credentials, no profile, no instance metadata.
BARE = {
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def tool(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    command = [sys.executable, "-m", *args]
    return subprocess.run(
        command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return lines[0]


@pytest.mark.parametrize("args", [RECOUNT, REPLAY], ids=["recount", "replay"])
def test_no_region_is_one_line_saying_how_to_give_it(args: tuple[str, ...]) -> None:
    line = one_line(tool(*args, env=BARE))
    assert line.endswith(": no AWS region: give --region, or set AWS_REGION (or a profile's region)")


def test_no_credentials_is_one_line_saying_how_to_give_them() -> None:
    line = one_line(tool(*RECOUNT, "--region", "eu-west-1", env=BARE))
    assert line.startswith(
        "recount: no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )


def test_a_table_that_is_not_there_is_one_line_naming_the_option(moto_server: Server) -> None:
    env = {**BARE, **DUMMY_AWS}
    line = one_line(tool(*RECOUNT, "--endpoint-url", moto_server.endpoint, env=env))
    assert line.startswith("recount: ")
    assert line.endswith(": check --table (output MessagesTableName) or --queue-url (StreamFailureQueueUrl)")


def test_an_endpoint_that_does_not_answer_is_one_line() -> None:
    env = {**BARE, **DUMMY_AWS, "AWS_MAX_ATTEMPTS": "1"}
    line = one_line(tool(*REPLAY, "--endpoint-url", "http://127.0.0.1:1", env=env))
    assert line == "replay: nothing answers at http://127.0.0.1:1/: is --endpoint-url (or the region) right?"
