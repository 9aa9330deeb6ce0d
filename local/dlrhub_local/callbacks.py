"""Customer callbacks in the local stack: what the deployed stack's API destination does.

Deployed, an EventBridge rule matches the hub's "Message status changed" events and an API
destination POSTs each one's detail to the customer's HTTPS endpoint, with the connection's
authorization header, retrying up to 24 hours (template.yaml, ``CallbackRule``).

Locally, the stack's EventBridge is moto server. This module adds the same rule there (the
same event pattern) with an SQS queue as its target, reads the queue, and POSTs each event's
detail to ``--callback-url`` with the configured header, retrying with backoff for a
bounded time as EventBridge would (401, 407, 409, 429, 5xx and network errors are retried;
other 4xx are not). Each retry is told as it is scheduled (``retry 2 of 25 in 1 s: …``), so a
dead endpoint shows at once, not when the events are given up. The events really go through
PutEvents and the rule's pattern, so what the stream function publishes is what is called back.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from dlrhub.adapters.bus import DETAIL_TYPE, SOURCE
from dlrhub_local.console import event_line
from dlrhub_local.event_router import queue_rule

RETRIED = {401, 407, 409, 429}
RULE_PREFIX = "dlrhub-local-callbacks"


@dataclass(frozen=True)
class CallbackAuth:
    """``API_KEY``: header ``name: secret``; ``BASIC``: user ``name``, password ``secret``."""

    kind: Literal["API_KEY", "BASIC"] = "API_KEY"
    name: str = "x-api-key"
    secret: str = ""

    def header(self) -> tuple[str, str] | None:
        if not self.secret:
            return None
        if self.kind == "BASIC":
            token = base64.b64encode(f"{self.name}:{self.secret}".encode()).decode()
            return "Authorization", f"Basic {token}"
        return self.name, self.secret

    def describe(self) -> str:
        """For a log line: the header's name, never its value."""
        if not self.secret:
            return "no authorization"
        return f"basic auth as {self.name}" if self.kind == "BASIC" else f"API key header {self.name}"


@dataclass(frozen=True)
class CallbackSettings:
    """What the local stack's ``--callback-*`` options say."""

    url: str
    auth: CallbackAuth = field(default_factory=CallbackAuth)
    final_only: bool = False


@dataclass(frozen=True)
class DeliverySettings:
    max_age: float = 600.0  # seconds of backoff an event is retried for (the deployed rule: 86400)
    max_attempts: int = 185  # the deployed rule's MaximumRetryAttempts
    first_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 5.0  # an API destination waits 5 s for an answer

    def delay(self, attempts: int) -> float:
        """The wait after ``attempts`` failed attempts (before jitter)."""
        return min(self.max_delay, self.first_delay * 2 ** (attempts - 1))

    @property
    def retries(self) -> int:
        """Retries after the first attempt: as many as the backoff fits in ``max_age``, at most
        ``max_attempts`` - 1."""
        waited, count = 0.0, 0
        while count < self.max_attempts - 1 and waited + self.delay(count + 1) <= self.max_age:
            count += 1
            waited += self.delay(count)
        return count


def event_pattern(table_arn: str | None, final_only: bool) -> dict[str, Any]:
    """The deployed rule's pattern (template.yaml, ``CallbackRule``)."""
    pattern: dict[str, Any] = {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
    if table_arn:
        pattern["resources"] = [table_arn]
    if final_only:
        pattern["detail"] = {"settled": [True]}
    return pattern


@dataclass
class Pending:
    detail: dict[str, Any]
    attempts: int = 0
    due: float = 0.0


@dataclass
class CallbackDelivery:
    """Delivers what the rule's queue receives; ``run`` until ``stop`` is set."""

    url: str
    auth: CallbackAuth
    emit: Callable[[str], None]
    stop: threading.Event
    sqs: Any
    queue_url: str
    settings: DeliverySettings = field(default_factory=DeliverySettings)
    pending: list[Pending] = field(default_factory=list)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._receive()
            except (BotoCoreError, ClientError):
                if self.stop.is_set():
                    return  # moto server stopped with the stack under the queue's long poll
                raise
            self._deliver_due()

    def _receive(self) -> None:
        wait = 0 if self.pending else 1
        reply = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        for message in reply.get("Messages", []):
            try:
                detail = json.loads(message["Body"])["detail"]  # the target's InputPath: $.detail
            except (KeyError, TypeError, ValueError):
                self.emit(event_line("callback", "skipped a message that is no event"))
            else:
                self.pending.append(Pending(detail, due=time.monotonic()))
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver_due(self) -> None:
        now = time.monotonic()
        for item in [p for p in self.pending if p.due <= now]:
            if self.stop.is_set():
                return
            status = self._post(item.detail)
            item.attempts += 1
            told, why = describe(item.detail), f"HTTP {status}" if status is not None else "no answer"
            if status is not None and 200 <= status < 300:
                self.pending.remove(item)
                self.emit(event_line("callback", f"{told} -> {status} after {item.attempts} attempt(s)"))
            elif not (status is None or status in RETRIED or status >= 500) or item.attempts > self.settings.retries:
                self.pending.remove(item)
                self.emit(event_line("callback", f"gave up on {told}: {why}, {item.attempts} attempt(s)"))
            else:
                delay = self.settings.delay(item.attempts) * random.uniform(0.8, 1.2)
                item.due = time.monotonic() + delay
                retry = f"retry {item.attempts} of {self.settings.retries} in {delay:.1f} s"
                self.emit(event_line("callback", f"{retry}: {told}: {why}"))

    def _post(self, detail: dict[str, Any]) -> int | None:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "dlrhub-local-callbacks"}
        header = self.auth.header()
        if header:
            headers[header[0]] = header[1]
        request = urllib.request.Request(self.url, data=json.dumps(detail).encode(), headers=headers, method="POST")  # noqa: S310 - the user's own URL
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as reply:  # noqa: S310 - as above
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
            return None


def describe(detail: dict[str, Any]) -> str:
    """provider/account message -> STATUS (final): ids and status only, no phone number."""
    final = " (final)" if detail.get("final") else ""
    return f"{detail.get('provider')}/{detail.get('account')} {detail.get('message_id')} {detail.get('status')}{final}"


def safe_url(url: str) -> str:
    """The URL without its query or user info (either may hold a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def start_callback_delivery(
    url: str,
    auth: CallbackAuth,
    final_only: bool,
    emit: Callable[[str], None],
    stop: threading.Event,
    *,
    bus_name: str = "default",
    table_arn: str | None = None,
    settings: DeliverySettings | None = None,
    events_client: Any = None,
    sqs_client: Any = None,
) -> threading.Thread:
    """Add the callback rule to the local EventBridge (moto) and start delivering in a thread.

    ``table_arn``: match this table's events only, as the deployed rule does (None: any).
    The AWS clients default to the process's configuration (the local stack sets
    ``AWS_ENDPOINT_URL``)."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError("--callback-url must be an http:// or https:// URL")
    events = events_client or boto3.client("events")
    sqs = sqs_client or boto3.client("sqs")
    name = f"{RULE_PREFIX}-{uuid.uuid4().hex[:8]}"
    queue_url = queue_rule(events, sqs, name, event_pattern(table_arn, final_only), bus_name)
    delivery = CallbackDelivery(url, auth, emit, stop, sqs, queue_url, settings or DeliverySettings())
    scope = "final statuses" if final_only else "every status change"
    emit(event_line("callbacks", f"POST {scope} to {safe_url(url)} ({auth.describe()})"))
    thread = threading.Thread(target=delivery.run, name="callbacks", daemon=True)
    thread.start()
    return thread
