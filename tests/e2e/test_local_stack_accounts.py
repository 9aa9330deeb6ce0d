"""Ordinary account set-ups in the local stack: push-only, pull-only and broken accounts beside good ones."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack_process import StackProcess, local_stack

pytestmark = pytest.mark.slow

PUSH_ONLY = {"webhook_secret": "push-only-secret-0123456789"}
#: Keys present but wrong: a configuration error, told, never a failure of the others.
BROKEN = {"webhook_secret": "broken-secret-0123456789", "base_url": "not a url", "spid": "s", "password": "p"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The demo accounts (filled in by the stack) plus push-only Infin8linx and Webcom accounts
    and a broken Infin8linx account, all polled and reported every second."""
    config = Path(tmp_path_factory.mktemp("accounts")) / "local.json"
    extra = {"infin8linx/pushonly": PUSH_ONLY, "webcom/pushonly": PUSH_ONLY, "infin8linx/broken": BROKEN}
    config.write_text(json.dumps({"accounts": extra}))
    with local_stack(config, "--poll-every", "1", "--report-every", "1") as running:
        yield running


def test_the_demo_huawei_account_has_no_webhook_secret_and_is_polled(stack: StackProcess) -> None:
    assert "webhook_secret" not in stack.account("huawei")
    stack.wait_for_line(r"stored\s+huawei/demo demo-hw-0000000001 -> DELIVERED \(raw 'DELIVRD', poll\)", 45)


def test_push_only_accounts_are_never_a_failure_and_the_monitor_report_still_goes_out(stack: StackProcess) -> None:
    sent = r"monitor\s+infin8linx/demo .*\(code 0\)"
    if not any(re.search(sent, line) for line in stack.seen):  # an earlier test may have read it already
        stack.wait_for_line(sent, 45)
    stack.read_for(3)  # a few more poll and report runs
    text = "".join(stack.seen)
    assert not re.search(r"/pushonly: .*failure", text), text
    assert "Traceback" not in text
    assert "failed:" not in text


def test_a_broken_account_is_told_as_misconfigured_naming_the_key(stack: StackProcess) -> None:
    deadline = time.monotonic() + 30
    wanted = (r"polled\s+infin8linx/broken: misconfigured: poll_by_id: base_url", r"monitor\s+infin8linx/broken mis")
    while not all(any(re.search(p, line) for line in stack.seen) for p in wanted):
        assert time.monotonic() < deadline, "".join(stack.seen[-40:])
        stack.read_for(1)
    assert "not a url" not in "".join(stack.seen)  # a key's value is never shown: it may be a credential
