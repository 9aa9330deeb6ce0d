"""Every registered provider is complete: what "Adding a provider" (docs/providers.md) asks for."""

from __future__ import annotations

import re

import pytest

from dlrhub.adapters.secrets import read_account
from dlrhub.providers.contract import POLLING, Capability, Credentials, Provider, WebhookCredentials
from dlrhub.providers.registry import PROVIDERS
from dlrhub_local.simulators import SIMULATORS, SimulatorServer
from tests.samples import SAMPLES_OF
from tests.support import EVENT_SAMPLES, EVENTS, SAMPLES

NAMES = [provider.name for provider in PROVIDERS]


def test_names_are_unique_url_safe_words() -> None:
    assert len(set(NAMES)) == len(NAMES)
    assert all(re.fullmatch(r"[a-z][a-z0-9]{1,31}", name) for name in NAMES)


@pytest.mark.parametrize("provider", PROVIDERS, ids=NAMES)
def test_each_capability_has_a_credentials_model(provider: Provider) -> None:
    capabilities = provider.capabilities()
    assert capabilities, f"{provider.name} can do nothing"
    for capability, spec in capabilities.items():
        if capability is Capability.EVENTS:  # EventBridge input: no account secret, the deployment names the account
            assert spec.credentials is None
            continue
        assert issubclass(spec.credentials, Credentials)
        assert provider.own_keys()[capability], f"{provider.name} {capability}: no key switches it on"
    if provider.webhook is not None:
        assert issubclass(provider.webhook.credentials, WebhookCredentials)
        assert provider.webhook.methods <= {"GET", "POST"}


@pytest.mark.parametrize("provider", PROVIDERS, ids=NAMES)
def test_a_provider_that_calls_back_has_sample_events_with_expectations(provider: Provider) -> None:
    webhook = [sample for sample in SAMPLES_OF[provider.name] if sample.is_webhook]
    if provider.webhook is None:
        assert not webhook
        return
    assert any(sample.status_code == 200 and sample.stored for sample in webhook)
    assert any(sample.status_code == 403 for sample in webhook), "a refused sample (wrong credentials)"
    for sample in webhook:
        assert (EVENTS / sample.event).is_file(), sample.event
        assert sample.event.startswith(f"webhook_{provider.name}_"), sample.event


@pytest.mark.parametrize("provider", PROVIDERS, ids=NAMES)
def test_a_provider_that_sends_events_has_sample_events_with_expectations(provider: Provider) -> None:
    events = [sample for sample in SAMPLES_OF[provider.name] if not sample.is_webhook]
    if provider.events is None:
        assert not events
        return
    assert any(sample.status_code == 200 and sample.stored for sample in events)
    assert any(sample.status_code == 400 for sample in events), "a malformed event, dropped"
    for sample in events:
        assert (EVENTS / sample.event).is_file(), sample.event
        assert sample.event.startswith(f"eventbridge_{provider.name}_"), sample.event
        assert sample.status_code in (200, 400), "an EventBridge target answers no HTTP status"


def test_every_sample_event_belongs_to_exactly_one_provider() -> None:
    declared = [sample.event for provider in PROVIDERS for sample in SAMPLES_OF[provider.name]]
    assert len(declared) == len(set(declared))
    assert {path.name for path in EVENTS.glob("webhook_*.json")} == set(SAMPLES)
    assert {path.name for path in EVENTS.glob("eventbridge_*.json")} == set(EVENT_SAMPLES)


@pytest.mark.parametrize("provider", PROVIDERS, ids=NAMES)
def test_a_provider_that_can_be_asked_has_a_simulator(provider: Provider) -> None:
    asked = [cap for cap in (*POLLING, Capability.MONITOR) if provider.spec(cap) is not None]
    if asked:
        assert provider.name in SIMULATORS, f"{provider.name} can be polled but has no simulator"


def test_every_simulator_plays_a_registered_provider_and_has_demo_messages() -> None:
    assert set(SIMULATORS) <= set(NAMES)
    for name, simulator in SIMULATORS.items():
        assert simulator.provider == name
        assert simulator.demo_messages, name


@pytest.mark.parametrize(("name", "simulator"), SIMULATORS.items(), ids=list(SIMULATORS))
def test_a_demo_account_is_accepted_by_its_providers_models(name: str, simulator: type[SimulatorServer]) -> None:
    [provider] = [p for p in PROVIDERS if p.name == name]
    keys = simulator.demo_account()
    started = simulator.for_account(keys)
    assert started is not None, f"the {name} simulator cannot serve its own demo account"
    started.start()
    try:
        keys |= started.account_urls()
    finally:
        started.stop()
    account = read_account(provider, "demo", keys, list(Capability))
    assert account.problems == {}
    assert set(account.credentials) == set(provider.keyed())
