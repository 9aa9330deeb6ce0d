"""The poller function's handler in-process, driven by events/schedule_poller.json, against the simulators."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from dlrhub_local.gateway import LambdaContext, load_handler
from dlrhub_local.lambda_service import Invocation, LambdaService
from dlrhub_local.simulators import HuaweiSimulator, Infin8linxSimulator, InnoPaaSSimulator, WebcomSimulator
from dlrhub_local.template import Template
from tests.poller_support import PollHarness
from tests.support import TEMPLATE, load_event, put_account_secret

Handler = Callable[[dict, Any], dict]
PROVIDERS = ("infin8linx", "huawei", "webcom", "innopaas")


@dataclass
class Simulators:
    infin8linx: Infin8linxSimulator
    huawei: HuaweiSimulator
    webcom: WebcomSimulator
    innopaas: InnoPaaSSimulator

    def requests(self) -> int:
        return sum(getattr(self, provider).requests for provider in PROVIDERS)


@pytest.fixture
def simulators() -> Iterator[Simulators]:
    found = Simulators(
        Infin8linxSimulator({"spid-demo": "pw-demo"}).start(),
        HuaweiSimulator(keys={"AK-demo": "SK-demo"}).start(),
        WebcomSimulator({"login-demo": "pw-demo"}).start(),
        InnoPaaSSimulator({"api-demo": "pw-demo"}).start(),
    )
    yield found
    for provider in PROVIDERS:
        getattr(found, provider).stop()


@pytest.fixture
def harness(moto_server: Any, simulators: Simulators) -> PollHarness:
    harness = PollHarness.create(moto_server.endpoint)
    secrets = {
        "infin8linx": simulators.infin8linx.account_secret("spid-demo"),
        "huawei": simulators.huawei.account_secret(),
        "webcom": simulators.webcom.account_secret(),
        "innopaas": simulators.innopaas.account_secret("api-demo"),
    }
    for provider, secret in secrets.items():
        put_account_secret(moto_server.endpoint, provider, "demo", secret, harness.prefix)
    return harness


def poller_handler(harness: PollHarness, monkeypatch: pytest.MonkeyPatch, accounts: str) -> Handler:
    monkeypatch.setenv("AWS_ENDPOINT_URL", harness.endpoint)
    monkeypatch.setenv("TABLE_NAME", harness.table)
    monkeypatch.setenv("SECRETS_PREFIX", harness.prefix)
    monkeypatch.setenv("POLL_ACCOUNTS", accounts)
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "2")
    return load_handler(Template(TEMPLATE).functions()["PollerFunction"])


def invoke(handler: Handler, timeout_ms: int) -> dict[str, Any]:
    """One scheduled invocation, as deployed: it starts one invocation per account through Lambda's
    Invoke API (the local stack's, on loopback); their results, in the order of the accounts."""
    finished: list[Invocation] = []
    service = LambdaService({"PollerFunction": handler}, {"PollerFunction": timeout_ms // 1000}, finished.append)
    with service, patched_env(AWS_ENDPOINT_URL_LAMBDA=service.endpoint):
        context = LambdaContext("PollerFunction", str(uuid.uuid4()), timeout_ms=timeout_ms, started=time.monotonic())
        dispatched = handler(load_event("schedule_poller.json"), context)
        assert service.wait_idle(120)
    assert dispatched["failed"] == []
    by_account = {invocation.event["poll_account"]: invocation for invocation in finished}
    assert sorted(by_account) == sorted(dispatched["dispatched"])
    assert all(invocation.error is None for invocation in finished), [i.error for i in finished]
    return {"accounts": [run for name in dispatched["dispatched"] for run in by_account[name].result["accounts"]]}


@contextmanager
def patched_env(**values: str) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def seed(harness: PollHarness, simulators: Simulators) -> dict[str, dict[str, str]]:
    """Two messages per provider, registered and final at the provider: provider -> id -> status."""
    expected = {
        "infin8linx": {"36160109669": "DELIVERED", "36160109670": "FAILED"},
        "huawei": {"hw-1": "DELIVERED", "hw-2": "REJECTED"},
        "webcom": {"82216": "DELIVERED", "82217": "EXPIRED"},
        "innopaas": {"627239445736452096": "DELIVERED", "627239445736452097": "FAILED"},
    }
    for provider, messages in expected.items():
        harness.register(provider, "demo", messages)
    simulators.infin8linx.add("36160109669", 1)
    simulators.infin8linx.add("36160109670", 2)
    simulators.huawei.add("hw-1", 1, submitted=datetime.now(UTC).timestamp() - 30)
    simulators.huawei.add("hw-2", 2, status_desc="REJECTD", submitted=datetime.now(UTC).timestamp() - 20)
    simulators.webcom.add("82216", "deliver")
    simulators.webcom.add("82217", "expired")
    simulators.innopaas.add("api-demo", "627239445736452096", "DELIVRD")
    simulators.innopaas.add("api-demo", "627239445736452097", "UNDELIV")
    return expected


def test_the_schedule_event_is_a_scheduler_notification() -> None:
    event = load_event("schedule_poller.json")
    assert (event["source"], event["detail-type"]) == ("aws.scheduler", "Scheduled Event")
    assert event["resources"][0].startswith("arn:aws:scheduler:")


def test_a_scheduled_run_polls_every_listed_account(
    harness: PollHarness, simulators: Simulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = seed(harness, simulators)
    handler = poller_handler(harness, monkeypatch, ",".join(f"{provider}/demo" for provider in PROVIDERS))

    result = invoke(handler, timeout_ms=300_000)

    runs = {run["provider"]: run for run in result["accounts"]}
    assert list(runs) == list(PROVIDERS)
    for provider, messages in expected.items():
        assert runs[provider]["stored"] == 2, runs[provider]
        assert (runs[provider]["failures"], runs[provider]["skipped"]) == (0, None)
        assert harness.statuses(provider, "demo", messages) == messages
        assert harness.item(provider, "demo", next(iter(messages)))["source"] == "poll"
    assert simulators.webcom.requests == 2  # one id a request
    assert simulators.innopaas.held("api-demo") == 0


def test_with_less_time_left_than_the_reserve_nothing_is_asked(
    harness: PollHarness, simulators: Simulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = seed(harness, simulators)
    handler = poller_handler(harness, monkeypatch, ",".join(f"{provider}/demo" for provider in PROVIDERS))

    result = invoke(handler, timeout_ms=15_000)  # 15 s left, below the 20 s reserve

    assert simulators.requests() == 0
    assert all(run["unfinished"] and run["requests"] == 0 for run in result["accounts"])
    for provider, messages in expected.items():
        assert set(harness.statuses(provider, "demo", messages).values()) == {"PENDING"}


def test_an_account_without_a_secret_is_skipped(
    harness: PollHarness, simulators: Simulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = poller_handler(harness, monkeypatch, "infin8linx/demo,infin8linx/nobody")
    result = invoke(handler, timeout_ms=300_000)
    demo, nobody = result["accounts"]
    assert (demo["skipped"], nobody["skipped"]) == (None, "account not configured")


def metric_lines(text: str) -> list[dict[str, Any]]:
    """The EMF metric documents a handler printed."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and '"_aws"' in line]


def metric_total(documents: list[dict[str, Any]], name: str, **dimensions: str) -> float:
    """The sum of ``name`` over the documents whose dimensions are exactly ``service`` plus ``dimensions``."""
    total = 0.0
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        same_dimensions = set(directive["Dimensions"][0]) == {"service", *dimensions}
        if name in document and same_dimensions and all(document.get(k) == v for k, v in dimensions.items()):
            value = document[name]
            total += sum(value) if isinstance(value, list) else value
    return total


def test_push_only_broken_and_good_accounts_in_one_run(
    harness: PollHarness, simulators: Simulators, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three set-ups that broke the poller: a push-only Infin8linx and Webcom account (no
    polling keys) counted as failures on every run, and a Huawei account without a
    webhook_secret (pull only) was never polled. Beside them a broken account (keys
    present but wrong) is a configuration error, and the good account is polled."""
    expected = seed(harness, simulators)
    push_only = {"webhook_secret": "push-only-secret-0123456789"}
    put_account_secret(harness.endpoint, "infin8linx", "pushonly", push_only, harness.prefix)
    put_account_secret(harness.endpoint, "webcom", "pushonly", push_only, harness.prefix)
    broken = {**simulators.infin8linx.account_secret("spid-demo"), "base_url": "not a url"}
    put_account_secret(harness.endpoint, "infin8linx", "broken", broken, harness.prefix)
    harness.register("infin8linx", "pushonly", ["p-1", "p-2"])
    harness.register("webcom", "pushonly", ["900"])
    listed = "infin8linx/pushonly,infin8linx/broken,webcom/pushonly,infin8linx/demo,huawei/demo"
    handler = poller_handler(harness, monkeypatch, listed)
    capsys.readouterr()

    result = invoke(handler, timeout_ms=300_000)

    runs = {(run["provider"], run["account"]): run for run in result["accounts"]}
    assert runs[("infin8linx", "pushonly")]["outcome"] == "skipped"
    assert runs[("webcom", "pushonly")]["outcome"] == "skipped"
    assert "push only" in runs[("webcom", "pushonly")]["skipped"]
    assert runs[("infin8linx", "broken")]["outcome"] == "misconfigured"
    assert "base_url" in runs[("infin8linx", "broken")]["misconfigured"]
    assert "not a url" not in json.dumps(result)  # a key's value is never repeated: it may be a credential
    for provider in ("infin8linx", "huawei"):
        assert runs[(provider, "demo")]["outcome"] == "polled"
        assert runs[(provider, "demo")]["stored"] == 2
        assert harness.statuses(provider, "demo", expected[provider]) == expected[provider]
    assert sum(run["failures"] for run in result["accounts"]) == 0
    assert set(harness.statuses("infin8linx", "pushonly", ["p-1", "p-2"]).values()) == {"PENDING"}
    documents = metric_lines(capsys.readouterr().out)
    assert metric_total(documents, "PollFailures") == 0
    assert metric_total(documents, "MisconfiguredAccounts", provider="infin8linx") == 1
    assert metric_total(documents, "MisconfiguredAccounts") == 1
    assert metric_total(documents, "PolledReportsStored", provider="huawei") == 2
