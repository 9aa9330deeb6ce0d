"""Accounts are validated per capability when read: on, off (keys absent) or broken (keys wrong)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from dlrhub.adapters.secrets import (
    LOOKUP_BURST,
    LOOKUP_EVERY,
    MAX_MISSING,
    Account,
    AccountDirectory,
    AccountUnavailable,
    read_account,
)
from dlrhub.providers.contract import POLLING, Capability, Provider
from dlrhub.providers.registry import PROVIDERS, provider_named

INFIN8LINX = provider_named("infin8linx")
HUAWEI = provider_named("huawei")
SECRET = "w" * 24


def test_a_push_only_account_has_its_webhook_on_and_nothing_else() -> None:
    assert INFIN8LINX is not None
    account = read_account(INFIN8LINX, "main", {"webhook_secret": SECRET}, list(Capability))
    assert account.on(Capability.WEBHOOK) is not None
    assert account.on(Capability.POLL_BY_ID) is None
    assert account.on(Capability.MONITOR) is None
    assert account.problems == {}


def test_a_pull_only_account_needs_no_webhook_secret() -> None:
    assert HUAWEI is not None
    keys = {"endpoint": "https://smn.example", "project_id": "p", "sign_id": "s", "ak": "a", "sk": "k"}
    account = read_account(HUAWEI, "cn", keys, list(Capability))
    assert account.on(Capability.POLL_BY_WINDOW) is not None
    assert account.problems == {}


def test_keys_present_but_wrong_are_a_problem_naming_the_key_never_its_value() -> None:
    assert INFIN8LINX is not None
    keys = {"webhook_secret": SECRET, "base_url": "ftp://nowhere", "spid": "s", "password": "hunter2-value"}
    account = read_account(INFIN8LINX, "main", keys, list(Capability))
    assert account.on(Capability.WEBHOOK) is not None  # one broken capability leaves the others on
    for capability in (Capability.POLL_BY_ID, Capability.MONITOR):
        assert account.on(capability) is None
        assert "base_url" in str(account.problem(capability))
        assert "hunter2-value" not in str(account.problem(capability))
        assert "ftp://nowhere" not in str(account.problem(capability))


def test_a_short_webhook_secret_is_a_problem() -> None:
    assert INFIN8LINX is not None
    account = read_account(INFIN8LINX, "main", {"webhook_secret": "short"}, [Capability.WEBHOOK])
    assert "webhook_secret" in str(account.problem(Capability.WEBHOOK))


def test_only_the_capabilities_a_function_uses_are_checked() -> None:
    assert INFIN8LINX is not None
    keys = {"webhook_secret": "short", "base_url": "https://x.example", "spid": "s", "password": "p"}
    account = read_account(INFIN8LINX, "main", keys, POLLING)
    assert account.problems == {}
    assert account.on(Capability.WEBHOOK) is None
    assert account.on(Capability.POLL_BY_ID) is not None


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_every_capability_is_off_without_its_keys_and_broken_with_bad_ones(provider: Provider) -> None:
    own_keys = provider.own_keys()
    for capability in provider.keyed():  # event-bus input has no account keys to be off or broken
        off = read_account(provider, "a", {"unrelated": "x"}, [capability])
        assert (off.on(capability), off.problem(capability)) == (None, None)
        bad = {key: ["not", "text"] for key in own_keys[capability]}
        broken = read_account(provider, "a", bad, [capability])
        assert broken.on(capability) is None
        assert broken.problem(capability), f"{provider.name} {capability}"


def test_a_secret_that_is_not_an_object_breaks_every_capability() -> None:
    assert INFIN8LINX is not None
    account = read_account(INFIN8LINX, "main", ["not", "an", "object"], list(Capability))
    assert set(account.problems) == set(INFIN8LINX.capabilities())


class FakeSecrets:
    """Secrets Manager as Powertools Parameters sees it: name -> value; a missing name raises."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.calls = 0
        self.down = False

    def get(self, name: str, transform: str, max_age: int) -> Any:
        self.calls += 1
        if self.down:
            raise GetParameterError("unreachable")
        if name not in self.values:
            missing = ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetSecretValue")
            raise GetParameterError("not found") from missing
        return self.values[name]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def directory(secrets: FakeSecrets, told: list[tuple[str, Capability]], clock: Clock) -> AccountDirectory:
    def tell(account: Account, capability: Capability, problem: str) -> None:
        told.append((account.label, capability))

    return AccountDirectory(
        "p",
        PROVIDERS,
        POLLING,
        max_age=300,
        secrets=secrets,
        on_problem=tell,
        clock=clock,  # type: ignore[arg-type]
    )


def test_a_broken_account_is_told_once_per_cache_period() -> None:
    broken = {"base_url": "not a url", "spid": "s", "password": "p"}
    secrets, told, clock = FakeSecrets({"p/infin8linx/main": broken}), [], Clock()
    accounts = directory(secrets, told, clock)
    for _ in range(5):
        assert accounts.get("infin8linx", "main").problem(Capability.POLL_BY_ID)  # type: ignore[union-attr]
    assert (secrets.calls, told) == (1, [("infin8linx/main", Capability.POLL_BY_ID)])
    clock.now += 301
    accounts.get("infin8linx", "main")
    assert (secrets.calls, len(told)) == (2, 2)


def test_unknown_accounts_and_providers_are_none_and_cached() -> None:
    secrets, told, clock = FakeSecrets({}), [], Clock()
    accounts = directory(secrets, told, clock)
    assert accounts.get("infin8linx", "nobody") is None
    assert accounts.get("infin8linx", "nobody") is None
    assert accounts.get("nosuch", "x") is None
    assert secrets.calls == 1


def test_an_unreachable_secret_store_is_unavailable_not_unknown() -> None:
    secrets, told, clock = FakeSecrets({}), [], Clock()
    secrets.down = True
    with pytest.raises(AccountUnavailable):
        directory(secrets, told, clock).get("infin8linx", "main")


def test_a_flood_of_made_up_names_costs_a_bounded_number_of_lookups() -> None:
    secrets, told, clock = FakeSecrets({"p/infin8linx/main": {"webhook_secret": SECRET}}), [], Clock()
    accounts = directory(secrets, told, clock)
    assert accounts.get("infin8linx", "main") is not None
    for number in range(300):
        assert accounts.get("infin8linx", f"made-up-{number}") is None
    assert secrets.calls == LOOKUP_BURST  # the first one (main) and 29 made-up ones, then none
    clock.now += 301  # main's cache period is over: a known name is read again whatever the budget
    before = secrets.calls
    assert accounts.get("infin8linx", "main") is not None
    assert secrets.calls == before + 1


def test_missing_names_are_remembered_up_to_a_bound() -> None:
    secrets, told, clock = FakeSecrets({}), [], Clock()
    accounts = directory(secrets, told, clock)
    for number in range(MAX_MISSING + 50):
        clock.now += LOOKUP_EVERY  # a slow trickle: every name is looked up once
        accounts.get("infin8linx", f"made-up-{number}")
    assert len(accounts._missing) == MAX_MISSING
    calls = secrets.calls
    accounts.get("infin8linx", f"made-up-{MAX_MISSING + 49}")  # still remembered: no call
    assert secrets.calls == calls
