"""The scheduled poll fans out: one asynchronous invocation of the poller per account.

Each account then has a function's whole time, memory and request slots of its own, so one
account's backlog (a day of messages to close after an outage, 100,000 pending at a provider
that answers one id a request) cannot take another's run with it, and a failure stays in its
invocation. Lambda queues the invocations (``InvocationType=Event``) and runs them at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(child=True)

#: The key of the event that asks one invocation to poll one account.
ACCOUNT_KEY = "poll_account"  # not "account": every EventBridge event has one (the AWS account id)


def account_event(provider: str, account: str) -> dict[str, str]:
    return {ACCOUNT_KEY: f"{provider}/{account}"}


def account_of(event: Any) -> str | None:
    """``provider/account`` when the event asks for one account's poll; None for the schedule's."""
    value = event.get(ACCOUNT_KEY) if isinstance(event, dict) else None
    return value if isinstance(value, str) else None


@dataclass
class Dispatched:
    accounts: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"dispatched": self.accounts, "failed": self.failed}


def dispatch(targets: list[tuple[str, str]], invoke: Callable[[dict[str, str]], None]) -> Dispatched:
    """Start one account's poll per target; a refused start is logged and counted, the rest go on."""
    found = Dispatched()
    for provider, account in targets:
        event = account_event(provider, account)
        try:
            invoke(event)
        except Exception:
            logger.exception("could not start an account's poll", provider=provider, account=account)
            found.failed.append(event[ACCOUNT_KEY])
        else:
            found.accounts.append(event[ACCOUNT_KEY])
    return found


def lambda_invoker(client: Any, function_arn: str) -> Callable[[dict[str, str]], None]:
    """Asynchronous invocations of ``function_arn`` (the poller itself)."""

    def invoke(event: dict[str, str]) -> None:
        reply = client.invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event).encode())
        if reply.get("StatusCode") != 202:
            raise RuntimeError(f"Lambda answered {reply.get('StatusCode')} to an asynchronous invocation")

    return invoke
