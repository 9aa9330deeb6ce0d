"""The scheduled poll's fan-out: one invocation per account, a refused start told and not fatal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dlrhub.adapters.lambda_invoke import lambda_invoker
from dlrhub.services.poller import account_event, account_of, dispatch
from tests.support import load_event


def test_the_schedules_event_asks_for_no_single_account() -> None:
    schedule = load_event("schedule_poller.json")
    assert "account" in schedule  # every EventBridge event names its AWS account: not ours to read
    assert account_of(schedule) is None
    assert account_of(account_event("webcom", "main")) == "webcom/main"


def test_one_refused_start_leaves_the_others_started() -> None:
    started: list[dict[str, str]] = []

    def invoke(event: dict[str, str]) -> None:
        if event["poll_account"] == "huawei/cn":
            raise RuntimeError("TooManyRequestsException")
        started.append(event)

    found = dispatch([("infin8linx", "main"), ("huawei", "cn"), ("webcom", "ru")], invoke)
    assert found.accounts == ["infin8linx/main", "webcom/ru"]
    assert found.failed == ["huawei/cn"]
    assert [event["poll_account"] for event in started] == found.accounts


class FakeLambda:
    def __init__(self, status: int) -> None:
        self.status, self.calls = status, []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"StatusCode": self.status}


def test_invocations_are_asynchronous_and_an_unexpected_answer_is_an_error() -> None:
    client = FakeLambda(202)
    lambda_invoker(client, "arn:aws:lambda:eu-west-1:123456789012:function:hub-poller")(account_event("a", "b"))
    [call] = client.calls
    assert (call["InvocationType"], json.loads(call["Payload"])) == ("Event", {"poll_account": "a/b"})
    with pytest.raises(RuntimeError, match="200"):
        lambda_invoker(FakeLambda(200), "arn")(account_event("a", "b"))
