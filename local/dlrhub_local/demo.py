"""The local stack's providers: a simulator per demo account, and demo traffic through them.

``start_simulators`` starts, for each registered simulator
(:data:`dlrhub_local.simulators.SIMULATORS`), one that accepts the ``{provider}/demo``
account's keys; ``demo_urls`` says which account keys point at each (a random port per
run), for the stack to add to the account secrets it stores where the config file gives
no URL of its own.

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
from dlrhub_local.simulators import SIMULATORS, DemoMessage, SimulatorServer

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


def start_simulators(accounts: dict[str, dict[str, Any]]) -> dict[str, SimulatorServer]:
    """A started simulator for each ``{provider}/demo`` account with keys its simulator can serve."""
    found: dict[str, SimulatorServer] = {}
    try:
        for provider, simulator_class in SIMULATORS.items():
            keys = accounts.get(demo_account_name(provider))
            simulator = simulator_class.for_account(keys) if keys is not None else None
            if simulator is not None:
                found[provider] = simulator.start()
    except BaseException:
        for simulator in found.values():
            simulator.stop()
        raise
    return found


def demo_urls(simulators: dict[str, SimulatorServer]) -> dict[str, dict[str, str]]:
    """``{provider}/demo`` -> the URL keys pointing it at its simulator."""
    return {demo_account_name(provider): sim.account_urls() for provider, sim in simulators.items()}


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
