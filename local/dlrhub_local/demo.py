"""The local stack's demo: the ``{provider}/demo`` accounts, and demo traffic through their simulators.

``Demo`` registers the simulators' demo messages through the customer API
(``POST /messages``), then lets each simulator push callbacks for some and answer the
poller for the others, so the console shows lines move from ``registered`` to
``stored … (…, webhook)`` and ``stored … (…, poll)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from dlrhub.providers.registry import provider_named
from dlrhub_local.console import stamped
from dlrhub_local.simulators import DemoMessage, SimulatorServer

DEMO = "demo"


def demo_account_name(provider: str) -> str:
    return f"{provider}/{DEMO}"


def registration(provider: str, message_id: str, destination: str, submitted_at: str, ref: str) -> dict[str, str]:
    """A message of a demo account, as ``POST /messages`` takes it."""
    return {
        "provider": provider,
        "account": DEMO,
        "message_id": message_id,
        "destination": destination,
        "submitted_at": submitted_at,
        "customer_ref": ref,
    }


@dataclass
class Demo:
    """Demo traffic: registrations now, callbacks as they fall due; bounded, stops on ``stop``."""

    api_url: str
    accounts: dict[str, dict[str, Any]]
    simulators: dict[str, SimulatorServer]
    webhook_url: Callable[[str], str]
    emit: Callable[[str], None]
    stop: threading.Event

    def messages(self) -> list[tuple[str, DemoMessage]]:
        """(provider, message) for every demo message of a provider whose simulator runs."""
        return [(provider, m) for provider, sim in self.simulators.items() for m in sim.demo_messages]

    def run(self) -> None:
        messages = self.messages()
        registered = [(provider, m) for provider, m in messages if m.registered]
        if not registered or not self._register(registered):
            return
        for provider, message in messages:
            self.simulators[provider].hand_over(message, self.accounts[demo_account_name(provider)])
        pushes = sorted(((p, m) for p, m in registered if m.push), key=lambda found: found[1].after)
        polled = len(registered) - len(pushes)
        self._say(f"demo: {len(registered)} messages registered; {len(pushes)} get callbacks, {polled} wait for a poll")
        started = time.monotonic()
        for provider, message in pushes:
            if self.stop.wait(max(0.0, started + message.after - time.monotonic())):
                return
            self._push(provider, message)

    def _say(self, line: str) -> None:
        self.emit(stamped(line))

    def _register(self, messages: list[tuple[str, DemoMessage]]) -> bool:
        now = datetime.now(UTC).isoformat()
        body = {"messages": [registration(p, m.message_id, m.destination, now, "local-demo") for p, m in messages]}
        try:
            reply = requests.post(f"{self.api_url}/messages", json=body, timeout=30)
        except requests.RequestException as error:
            self._say(f"demo: POST /messages failed: {type(error).__name__}")
            return False
        if reply.status_code != 200:
            self._say(f"demo: POST /messages answered {reply.status_code}: {reply.text[:200]}")
            return False
        return True

    def _push(self, provider: str, message: DemoMessage) -> None:
        simulator = self.simulators[provider]
        try:
            keys = self.accounts[demo_account_name(provider)]
            known = provider_named(provider)
            # A provider whose reports are events (no webhook) gets no URL: its simulator puts them on the bus.
            url = self.webhook_url(provider) if known is not None and known.webhook is not None else ""
            taken = simulator.push_demo(url, message, keys)
        except (requests.RequestException, BotoCoreError, ClientError) as error:
            self._say(f"demo: {provider} callback failed: {type(error).__name__}")
            return
        if not taken:
            self._say(f"demo: {provider} callback for {message.message_id} was not taken")
