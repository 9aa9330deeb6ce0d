"""What no reply and no log line may show: secrets, phone numbers sent, tracebacks, internal endpoints."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tests.support import LogCapture

#: Keys of an account's secret whose values are credentials.
SECRET_KEYS = (
    "webhook_secret",
    "webhook_secret_previous",
    "password",
    "pswd",
    "auth_token",
    "auth_token_previous",
    "signature_secret",
    "api_password",
    "sk",
    "token",
)
#: Exception text: a reply shows a reason, never how the code failed.
TRACE = re.compile(
    r"Traceback|File \"|site-packages|botocore|boto3|ClientError|Exception\b|Error\(|pydantic_core"
    r"|errors\.pydantic\.dev|\.py\", line|dlrhub/|/work/"
)
DIGIT_RUNS = re.compile(r"\d{7,}")


def account_secrets(accounts: dict[str, dict[str, Any]]) -> list[str]:
    """Every credential value of every account (8 characters or more: shorter ones are not secrets)."""
    found = {str(keys[key]) for keys in accounts.values() for key in SECRET_KEYS if keys.get(key)}
    return sorted(value for value in found if len(value) >= 8)


@dataclass
class LeakScanner:
    secrets: list[str]
    #: "127.0.0.1:port" of the engines behind the stack (DynamoDB Local, moto server, proxies).
    endpoints: list[str]
    phones: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.add_secrets([])

    def add_secrets(self, values: Iterable[str]) -> None:
        self.secrets = sorted({*self.secrets, *values})
        self._secret_forms = sorted({form for secret in self.secrets for form in (secret, quote(secret, safe=""))})

    def add_phones(self, phones: Iterable[str]) -> None:
        with self._lock:
            self.phones.update(phone.lstrip("+") for phone in phones)

    def _phones_in(self, text: str) -> list[str]:
        with self._lock:
            return [run for run in DIGIT_RUNS.findall(text) if run in self.phones]

    def _secrets_in(self, text: str) -> list[str]:
        return [secret for secret in self._secret_forms if secret in text]

    def in_reply(self, body: str, *, phones: bool = True) -> list[str]:
        """What a reply body shows that it must not. ``phones``: False for the customer API's own reads,
        which show the customer the destinations it registered."""
        found = []
        if self._secrets_in(body):
            found.append("a secret")
        if trace := TRACE.search(body):
            found.append(f"exception text {trace.group(0)!r}")
        for endpoint in self.endpoints:
            if endpoint in body:
                found.append(f"the internal endpoint {endpoint}")
        if phones and self._phones_in(body):
            found.append("a phone number sent")
        return found

    def in_logs(self, lines: Iterable[str]) -> tuple[list[str], int]:
        """(findings, tracebacks): secrets and phone numbers in the stack's output, and how many
        tracebacks it printed (allowed where a suite injects faults; never with a secret in them)."""
        findings, tracebacks = [], 0
        for line in lines:
            tracebacks += "Traceback" in line
            if self._secrets_in(line):
                findings.append(f"a secret in the log: {mask(line, self._secret_forms)[:300]}")
            if phones := self._phones_in(line):
                findings.append(f"phone number {phones[0][:4]}… in the log: {line[:200]}")
        return findings, tracebacks


def mask(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<secret>")
    return text


@contextmanager
def service_logs() -> Iterator[list[str]]:
    """The lines the hub's code logs in this process while the block runs (formatted as in Lambda, JSON),
    kept to be scanned instead of printed."""
    logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
    saved = logger.handlers[:]
    capture = LogCapture(saved[0].formatter if saved else None)
    logger.handlers = [capture]
    try:
        yield capture.lines
    finally:
        logger.handlers = saved
