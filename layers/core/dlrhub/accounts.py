"""Provider accounts and their credentials, read from AWS Secrets Manager.

One secret per provider account, named ``{prefix}/{provider}/{account}``, holding a
JSON object: ``webhook_secret`` (the secret in the callback URL) plus whatever that
provider needs (see docs/configuration.md). Values are cached with Powertools
Parameters for ``max_age`` seconds; an account that does not exist is remembered as
missing for the same time, so a flood of made-up account names costs no API calls.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, SecretStr


class AccountConfig(BaseModel):
    """What the hub knows of one provider account. Provider-specific keys are extras."""

    model_config = ConfigDict(extra="allow", frozen=True)

    webhook_secret: SecretStr

    def webhook_secret_matches(self, offered: str) -> bool:
        """Constant-time comparison of the secret a caller put in the URL."""
        return hmac.compare_digest(offered.encode(), self.webhook_secret.get_secret_value().encode())

    def credential(self, name: str) -> str:
        """A provider-specific value, e.g. ``password``; KeyError if the account lacks it."""
        value = (self.model_extra or {})[name]
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


class AccountUnavailable(Exception):
    """The secret store could not be read (not: the account does not exist)."""


def secret_name(prefix: str, provider: str, account: str) -> str:
    return f"{prefix}/{provider}/{account}"


def _is_not_found(error: BaseException) -> bool:
    cause = error.__cause__ or error.__context__
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


class AccountDirectory:
    def __init__(
        self,
        prefix: str,
        *,
        max_age: int = 300,
        provider: SecretsProvider | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefix = prefix
        self._max_age = max_age
        self._secrets = provider or SecretsProvider()
        self._clock = clock
        self._missing_until: dict[str, float] = {}

    def get(self, provider: str, account: str) -> AccountConfig | None:
        """The account's configuration, or None when no such account is configured."""
        name = secret_name(self._prefix, provider, account)
        if self._missing_until.get(name, 0.0) > self._clock():
            return None
        try:
            value: Any = self._secrets.get(name, transform="json", max_age=self._max_age)
        except GetParameterError as error:
            if _is_not_found(error):
                self._missing_until[name] = self._clock() + self._max_age
                return None
            raise AccountUnavailable(f"cannot read the configuration of {provider}/{account}") from None
        if not isinstance(value, dict) or "webhook_secret" not in value:
            raise AccountUnavailable(f"the configuration of {provider}/{account} has no webhook_secret")
        return AccountConfig.model_validate(value)
