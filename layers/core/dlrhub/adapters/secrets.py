"""Provider accounts from Secrets Manager: one secret each, validated per capability when read.

The secret ``{prefix}/{provider}/{account}`` holds a JSON object of keys. Each capability
the provider declares (:mod:`dlrhub.providers.contract`) has a model of the keys it
needs; a capability is **on** when its own keys are present and valid, **off** when they
are absent (not an error: a push-only account has no polling keys), and **broken** when
they are present but wrong: a configuration error naming the account and the key, told
once per cache period (log line and the ``on_problem`` hook, which the functions turn
into a metric). A function checks only the capabilities it uses.

Secrets are read with Powertools Parameters; the validated account is cached for
``max_age`` seconds, and an account that does not exist is remembered as missing for the
same time (the most recent :data:`MAX_MISSING` names), so a repeated made-up name costs no
further call. Names never seen are looked up at most :data:`LOOKUP_BURST` at once and then
one per :data:`LOOKUP_EVERY` seconds per function instance: a flood of made-up names is
answered "unknown" without a call (a real account's first callback during such a flood is
refused too, and its provider sends it again).
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from pydantic import ValidationError

from dlrhub.providers.contract import Capability, Credentials, Provider
from dlrhub.runtime import clients as aws

logger = Logger(child=True)


class AccountUnavailable(Exception):
    """The secret store could not be read (not: the account does not exist)."""


def secret_name(prefix: str, provider: str, account: str) -> str:
    return f"{prefix}/{provider}/{account}"


def problem_of(error: ValidationError) -> str:
    """Which keys are wrong and how, never their values (they are credentials)."""
    parts = []
    for found in error.errors()[:5]:
        where = ".".join(str(part) for part in found["loc"]) or "keys"
        parts.append(f"{where}: {found['msg']}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Account:
    """One provider account as configured: the capabilities on, and those broken."""

    provider: str
    name: str
    credentials: Mapping[Capability, Credentials] = field(default_factory=dict)
    problems: Mapping[Capability, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.name}"

    def on(self, capability: Capability) -> Any:
        """The capability's validated keys, or None when the account does not have it."""
        return self.credentials.get(capability)

    def problem(self, capability: Capability) -> str | None:
        return self.problems.get(capability)


def read_account(provider: Provider, name: str, value: Any, uses: Collection[Capability]) -> Account:
    """Validate a secret's keys against the models of the capabilities in ``uses``."""
    if not isinstance(value, dict):
        problem = "the secret is not a JSON object of keys"
        return Account(provider.name, name, problems={cap: problem for cap in provider.keyed()})
    credentials: dict[Capability, Credentials] = {}
    problems: dict[Capability, str] = {}
    own_keys = provider.own_keys()
    for capability, spec in provider.keyed().items():
        if capability not in uses or not own_keys[capability] & value.keys():
            continue
        try:
            credentials[capability] = spec.credentials.model_validate(value)
        except ValidationError as error:
            problems[capability] = problem_of(error)
    return Account(provider.name, name, credentials, problems)


def _is_not_found(error: BaseException) -> bool:
    cause = error.__cause__ or error.__context__
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


ProblemHook = Callable[[Account, Capability, str], None]

#: Made-up names remembered as missing (the oldest forgotten first).
MAX_MISSING = 1024
#: Lookups of names not cached: this many at once, then one per LOOKUP_EVERY seconds.
LOOKUP_BURST = 30
LOOKUP_EVERY = 2.0


class LookupBudget:
    """A token bucket: how many uncached names may still be looked up now."""

    def __init__(self, clock: Callable[[], float], burst: int = LOOKUP_BURST, every: float = LOOKUP_EVERY) -> None:
        self._clock, self._burst, self._every = clock, burst, every
        self._tokens, self._at = float(burst), clock()
        self.refused = 0

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) / self._every)
        self._at = now
        if self._tokens < 1:
            self.refused += 1
            return False
        self._tokens -= 1
        return True


class AccountDirectory:
    """The accounts of the providers a function serves, for the capabilities it uses."""

    def __init__(
        self,
        prefix: str,
        providers: Iterable[Provider],
        uses: Collection[Capability],
        *,
        max_age: int = 300,
        secrets: SecretsProvider | None = None,
        on_problem: ProblemHook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefix = prefix
        self._providers = {provider.name: provider for provider in providers}
        self._uses = frozenset(uses)
        self._max_age = max_age
        self._secrets_given = secrets
        self._on_problem = on_problem
        self._clock = clock
        #: secret name -> (valid until, account); and the names found missing -> until when.
        self._found: dict[str, tuple[float, Account]] = {}
        self._missing: OrderedDict[str, float] = OrderedDict()
        self._budget = LookupBudget(clock)

    def get(self, provider: str, account: str) -> Account | None:
        """The account, or None when no such account is configured (or no such provider)."""
        known = self._providers.get(provider)
        if known is None:
            return None
        name = secret_name(self._prefix, provider, account)
        now = self._clock()
        cached = self._found.get(name)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self._missing.get(name, 0.0) > now:
            return None
        if cached is None and not self._budget.take():
            return None  # an unknown name beyond the lookup budget: not looked up, not remembered
        found = self._read(known, account, name)
        if found is None:
            self._forget(name)
            self._missing[name] = now + self._max_age
            while len(self._missing) > MAX_MISSING:
                self._missing.popitem(last=False)
            return None
        self._found[name] = (now + self._max_age, found)
        for capability, problem in found.problems.items():
            self._tell(found, capability, problem)
        return found

    def _forget(self, name: str) -> None:
        self._found.pop(name, None)
        self._missing.pop(name, None)

    @functools.cached_property
    def _secrets(self) -> SecretsProvider:
        """Made at the first read, with the function's shared session (dlrhub.runtime.clients)."""
        return self._secrets_given or SecretsProvider(boto3_client=aws.client("secretsmanager"))

    def _read(self, provider: Provider, account: str, name: str) -> Account | None:
        try:
            # Cached here, validated, for max_age: Parameters need not keep a copy too.
            value: Any = self._secrets.get(name, transform="json", max_age=0)
        except GetParameterError as error:
            if _is_not_found(error):
                return None
            raise AccountUnavailable(f"cannot read the configuration of {provider.name}/{account}") from None
        return read_account(provider, account, value, self._uses)

    def _tell(self, account: Account, capability: Capability, problem: str) -> None:
        logger.error(
            "account misconfigured",
            account=account.label,
            capability=capability.value,
            problem=problem,
        )
        if self._on_problem is not None:
            self._on_problem(account, capability, problem)
