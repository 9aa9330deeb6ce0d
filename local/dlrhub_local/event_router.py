"""EventBridge rules of template.yaml, run locally: events on moto server's bus reach their functions.

For each ``EventBridgeRule`` event of a template function, :func:`create_rules` puts a rule
with the same pattern on moto server's bus, whose target is an SQS queue in moto (moto
delivers matching events to SQS targets); :func:`route` reads that queue and invokes the
function with each event, as EventBridge invokes a Lambda target: one event at a time.
A failed invocation is tried again (the message comes back after a short visibility
timeout) up to :data:`MAX_RECEIVES` times, then dropped with the traceback shown, as
Lambda's retries and failure destination would park it.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlrhub_local.console import stamped
from dlrhub_local.gateway import LambdaContext
from dlrhub_local.template import EventRule

MAX_RECEIVES = 3
RETRY_AFTER_SECONDS = 2
PREFIX = "dlrhub-local"

Handler = Callable[[dict, Any], Any]


@dataclass(frozen=True)
class Route:
    rule: EventRule
    queue_url: str


def queue_rule(events: Any, sqs: Any, name: str, pattern: dict[str, Any], bus: str, **queue: str) -> str:
    """A rule on ``bus`` whose target is a queue (moto delivers the events it matches to an SQS target),
    both named ``name`` (made again, the same); the queue's URL. ``queue``: the queue's attributes."""
    queue_url = sqs.create_queue(QueueName=name, Attributes=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED", EventBusName=bus)
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "local-queue", "Arn": arn}])
    return queue_url


def create_rules(rules: list[EventRule], events: Any, sqs: Any) -> list[Route]:
    """A queue and a rule targeting it, per template rule; idempotent (same names again). A message
    read and not deleted is visible again after ``RETRY_AFTER_SECONDS``."""
    routes = []
    for rule in rules:
        name, retry = f"{PREFIX}-{rule.function}-{rule.name}"[:64], str(RETRY_AFTER_SECONDS)
        routes.append(Route(rule, queue_rule(events, sqs, name, rule.pattern, rule.bus, VisibilityTimeout=retry)))
    return routes


def deliver(route: Route, handler: Handler, sqs: Any, emit: Callable[[str], None], timeout_ms: int = 10_000) -> int:
    """One read of the route's queue: each event handed to the function. Returns how many were read."""
    reply = sqs.receive_message(
        QueueUrl=route.queue_url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    )
    messages = reply.get("Messages", [])
    for message in messages:
        received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            handler(json.loads(message["Body"]), LambdaContext(route.rule.function, timeout_ms=timeout_ms))
        except Exception:
            emit(stamped(f"{route.rule.function} failed (try {received}):\n{traceback.format_exc()}"))
            if received < MAX_RECEIVES:
                continue  # visible again after the visibility timeout: tried again
        sqs.delete_message(QueueUrl=route.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def route(
    routes: list[Route],
    handlers: dict[str, Handler],
    sqs: Any,
    emit: Callable[[str], None],
    stop: threading.Event,
    every: float = 0.3,
) -> None:
    """Until ``stop``: read every route's queue and invoke its function; wait ``every`` seconds when idle."""
    while not stop.is_set():
        busy = 0
        for found in routes:
            handler = handlers.get(found.rule.function)
            if handler is not None:
                try:
                    busy += deliver(found, handler, sqs, emit)
                except Exception:  # moto stopping, say: shown, and tried again
                    emit(stamped(f"event router: {traceback.format_exc(limit=1)}"))
        if not busy:
            stop.wait(every)
