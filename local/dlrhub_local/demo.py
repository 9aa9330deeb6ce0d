"""The local stack's providers: a simulator per demo account, and demo traffic through them.

``start_simulators`` starts one simulator per provider whose ``{provider}/demo`` account
is in the config, with that account's credentials; ``urls`` says where each listens (a
random port per run), for the stack to put into the account secrets it stores.

``Demo`` registers a handful of messages per provider through the customer API
(``POST /messages``), then lets the simulators push callbacks for some (Infin8linx GET,
Webcom JSON array, InnoPaaS JSON object) and answer the poller for the others, so the
console shows lines move from ``registered`` to ``stored … (…, webhook)`` and
``stored … (…, poll)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from dlrhub_local.simulators import (
    HuaweiSimulator,
    Infin8linxSimulator,
    InnoPaaSSimulator,
    SimulatorServer,
    WebcomSimulator,
)

#: The secret key that carries each provider's base URL.
URL_KEYS = {"infin8linx": "base_url", "huawei": "endpoint", "webcom": "base_url", "innopaas": "pull_url"}
DEMO = "demo"
#: Seconds a pushed report stays invisible to polls after its callback.
PUSH_HEAD_START = 60.0


def start_simulators(accounts: dict[str, dict[str, Any]]) -> dict[str, SimulatorServer]:
    """A started simulator for each ``{provider}/demo`` account that has its poll credentials."""
    found: dict[str, SimulatorServer] = {}
    made: dict[str, Callable[[dict[str, Any]], SimulatorServer]] = {
        "infin8linx": lambda a: Infin8linxSimulator({a["spid"]: a["password"]}),
        "huawei": lambda a: HuaweiSimulator(
            project_id=a["project_id"], sign_ids=(a["sign_id"],), keys={a["ak"]: a["sk"]}
        ),
        "webcom": lambda a: WebcomSimulator({a["login"]: a["password"]}),
        "innopaas": lambda a: InnoPaaSSimulator({a["api_account"]: a["api_password"]}),
    }
    try:
        for provider, make in made.items():
            account = accounts.get(f"{provider}/{DEMO}")
            if account is None:
                continue
            try:
                simulator = make(account)
            except KeyError:  # an account without poll credentials: webhooks only
                continue
            found[provider] = simulator.start()
    except BaseException:
        for simulator in found.values():
            simulator.stop()
        raise
    return found


def secret_overrides(simulators: dict[str, SimulatorServer]) -> dict[str, dict[str, str]]:
    """``{provider}/demo`` -> the URL key pointing it at its simulator (stored with the secret)."""
    return {f"{provider}/{DEMO}": {URL_KEYS[provider]: sim.url} for provider, sim in simulators.items()}


@dataclass(frozen=True)
class DemoMessage:
    provider: str
    message_id: str
    destination: str
    outcome: str  # the provider's final word
    after: float  # seconds until the provider has it
    push: bool  # True: the provider calls back; False: the poller has to ask


MESSAGES = (
    DemoMessage("infin8linx", "90000000001", "628131565741", "1", 2, push=True),
    DemoMessage("infin8linx", "90000000002", "628131565742", "2", 4, push=True),
    DemoMessage("infin8linx", "90000000003", "628131565743", "1", 3, push=False),
    DemoMessage("infin8linx", "90000000004", "628131565744", "2", 5, push=False),
    DemoMessage("webcom", "900001", "79161234561", "deliver", 3, push=True),
    DemoMessage("webcom", "900002", "79161234562", "deliver", 2, push=False),
    DemoMessage("webcom", "900003", "79161234563", "not_deliver", 4, push=False),
    DemoMessage("innopaas", "900000000000000001", "8618888888881", "DELIVRD", 3, push=True),
    DemoMessage("innopaas", "900000000000000002", "8618888888882", "DELIVRD", 2, push=False),
    DemoMessage("innopaas", "900000000000000003", "8618888888883", "REJECTD", 4, push=False),
    DemoMessage("huawei", "demo-hw-0000000001", "8613400006781", "DELIVRD", 2, push=False),
    DemoMessage("huawei", "demo-hw-0000000002", "8613400006782", "REJECTD", 4, push=False),
)
#: Sent through Huawei but never registered: the window poll finds and stores it anyway.
UNREGISTERED_HUAWEI = DemoMessage("huawei", "demo-hw-unregistered", "8613400006789", "DELIVRD", 3, push=False)


class Demo:
    """Demo traffic: registrations now, callbacks as they fall due; bounded, stops on ``stop``."""

    def __init__(
        self,
        api_url: str,
        accounts: dict[str, dict[str, Any]],
        simulators: dict[str, SimulatorServer],
        webhook_url: Callable[[str], str],
        emit: Callable[[str], None],
        stop: threading.Event,
    ) -> None:
        self._api = api_url
        self._accounts = accounts
        self._simulators = simulators
        self._webhook_url = webhook_url
        self._emit = emit
        self._stop = stop

    def messages(self) -> list[DemoMessage]:
        return [m for m in MESSAGES if m.provider in self._simulators and f"{m.provider}/{DEMO}" in self._accounts]

    def run(self) -> None:
        messages = self.messages()
        if not messages:
            return
        if not self._register(messages):
            return
        for message in [*messages, UNREGISTERED_HUAWEI]:
            self._hand_to_provider(message)
        pushes = sorted((m for m in messages if m.push), key=lambda m: m.after)
        polled = sum(not m.push for m in messages)
        self._say(f"demo: {len(messages)} messages registered; {len(pushes)} get callbacks, {polled} wait for a poll")
        started = time.monotonic()
        for message in pushes:
            if self._stop.wait(max(0.0, started + message.after - time.monotonic())):
                return
            self._push(message)

    def _say(self, line: str) -> None:
        self._emit(f"{time.strftime('%H:%M:%S')}  {line}")

    def _register(self, messages: list[DemoMessage]) -> bool:
        now = datetime.now(UTC).isoformat()
        body = {
            "messages": [
                {
                    "provider": m.provider,
                    "account": DEMO,
                    "message_id": m.message_id,
                    "destination": m.destination,
                    "submitted_at": now,
                    "customer_ref": "local-demo",
                }
                for m in messages
            ]
        }
        try:
            reply = requests.post(f"{self._api}/messages", json=body, timeout=30)
        except requests.RequestException as error:
            self._say(f"demo: POST /messages failed: {type(error).__name__}")
            return False
        if reply.status_code != 200:
            self._say(f"demo: POST /messages answered {reply.status_code}: {reply.text[:200]}")
            return False
        return True

    def _hand_to_provider(self, m: DemoMessage) -> None:
        # A message whose report is pushed reads as "no status yet" to a poll until well after the
        # callback, so each line on screen shows the path the demo meant for it.
        after = m.after + (PUSH_HEAD_START if m.push else 0)
        simulator = self._simulators.get(m.provider)
        if isinstance(simulator, Infin8linxSimulator):
            simulator.add(m.message_id, int(m.outcome), after=after, das=m.destination)
        elif isinstance(simulator, WebcomSimulator):
            simulator.add(m.message_id, m.outcome, after=after)
        elif isinstance(simulator, InnoPaaSSimulator):
            account = self._accounts[f"innopaas/{DEMO}"]["api_account"]
            simulator.add(account, m.message_id, m.outcome, after=m.after, pull=not m.push)
        elif isinstance(simulator, HuaweiSimulator):
            status = 1 if m.outcome == "DELIVRD" else 2
            simulator.add(m.message_id, status, status_desc=m.outcome, after=m.after, mobile=m.destination)

    def _push(self, m: DemoMessage) -> None:
        simulator = self._simulators[m.provider]
        url = self._webhook_url(m.provider)
        try:
            if isinstance(simulator, Infin8linxSimulator):
                status = simulator.push(url, m.message_id)
            elif isinstance(simulator, WebcomSimulator):
                if not simulator.push(url, [int(m.message_id)]):
                    self._say(f"demo: webcom callback for {m.message_id} not acknowledged")
                return
            elif isinstance(simulator, InnoPaaSSimulator):
                account = self._accounts[f"innopaas/{DEMO}"]
                receiver, pswd = account.get("receiver", ""), account.get("pswd", "")
                status = simulator.push(url, account["api_account"], m.message_id, receiver, pswd)
            else:
                return
        except requests.RequestException as error:
            self._say(f"demo: {m.provider} callback failed: {type(error).__name__}")
            return
        if status != 200:
            self._say(f"demo: {m.provider} callback for {m.message_id} answered {status}")
