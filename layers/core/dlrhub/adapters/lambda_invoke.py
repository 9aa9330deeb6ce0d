"""Asynchronous Lambda invocations: how the scheduled poll starts one invocation per account."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def lambda_invoker(client: Any, function_arn: str) -> Callable[[dict[str, str]], None]:
    """Asynchronous invocations of ``function_arn`` (the poller itself)."""

    def invoke(event: dict[str, str]) -> None:
        reply = client.invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event).encode())
        if reply.get("StatusCode") != 202:
            raise RuntimeError(f"Lambda answered {reply.get('StatusCode')} to an asynchronous invocation")

    return invoke
