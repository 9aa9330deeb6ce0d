"""Provider accounts: one Secrets Manager secret each, validated per capability when read.

The secret ``{prefix}/{provider}/{account}`` holds a JSON object of keys. Each capability
the provider declares (:mod:`dlrhub.providers.descriptor`) has a model of the keys it
needs; a capability is **on** when its own keys are present and valid, **off** when they
are absent (not an error: a push-only account has no polling keys), and **broken** when
they are present but wrong: a configuration error naming the account and the key, told
once per cache period (log line and the ``on_problem`` hook, which the functions turn
into a metric). A function checks only the capabilities it uses.

Secrets are read with Powertools Parameters; the validated account is cached for
``max_age`` seconds, and an account that does not exist is remembered as missing for the
same time, so repeated made-up names cost no further calls.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from pydantic import ValidationError

from dlrhub import aws
from dlrhub.providers.descriptor import Capability, Credentials, Provider

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
        return Account(provider.name, name, problems={cap: problem for cap in provider.capabilities()})
    credentials: dict[Capability, Credentials] = {}
    problems: dict[Capability, str] = {}
    own_keys = provider.own_keys()
    for capability, spec in provider.capabilities().items():
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
        #: secret name -> (valid until, account or None for "no such account").
        self._cache: dict[str, tuple[float, Account | None]] = {}

    def get(self, provider: str, account: str) -> Account | None:
        """The account, or None when no such account is configured (or no such provider)."""
        known = self._providers.get(provider)
        if known is None:
            return None
        name = secret_name(self._prefix, provider, account)
        now = self._clock()
        cached = self._cache.get(name)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = self._read(known, account, name)
        self._cache[name] = (now + self._max_age, found)
        if found is not None:
            for capability, problem in found.problems.items():
                self._tell(found, capability, problem)
        return found

    @functools.cached_property
    def _secrets(self) -> SecretsProvider:
        """Made at the first read, with the function's shared session (dlrhub.aws)."""
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
