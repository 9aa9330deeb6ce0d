"""Every environment variable the functions read, read here once and validated at start-up.

One model per function (named like its folder in functions/), all on :class:`Settings`, plus
:func:`powertools`, what the hub's own plumbing reads of Powertools' variables. An on/off
variable has one truth table, Powertools' own (``1/true/yes/on/t/y`` and ``0/false/no/off/f/n``,
any case; empty is the default), so a flag means the same to Powertools and to the hub.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Annotated, Any, Self

from aws_lambda_powertools.shared.functions import strtobool
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from dlrhub.domain.report import AccountName


def _flag(value: Any, unset: bool) -> Any:
    """Powertools' truth table; an empty variable is an unset one."""
    if isinstance(value, str):
        return unset if not value.strip() else strtobool(value.strip())
    return value


def parse_accounts(text: str) -> list[tuple[str, str]]:
    """``"infin8linx/main, huawei/cn"`` -> ``[("infin8linx", "main"), ("huawei", "cn")]``."""
    found = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        provider, _, account = entry.partition("/")
        if not provider or not account:
            raise ValueError(f"poll account {entry!r} must look like provider/account")
        found.append((provider, account))
    return found


#: An on/off variable, by Powertools' truth table: off, or on, when unset or empty.
FlagOff = Annotated[bool, BeforeValidator(lambda value: _flag(value, False))]
FlagOn = Annotated[bool, BeforeValidator(lambda value: _flag(value, True))]
#: ``provider/account`` pairs, comma-separated (template parameter ``PollAccounts``).
Accounts = Annotated[list[tuple[str, str]], BeforeValidator(lambda value: parse_accounts(value or ""))]


class FromEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if env is None else env))


class Powertools(FromEnvironment):
    """Powertools' variables, as the hub's own metrics, tracing and logs need them."""

    service: str = Field(default="dlrhub", min_length=1, validation_alias="POWERTOOLS_SERVICE_NAME")
    metrics_namespace: str = Field(default="DLRHub", min_length=1, validation_alias="POWERTOOLS_METRICS_NAMESPACE")
    metrics_disabled: FlagOff = Field(default=False, validation_alias="POWERTOOLS_METRICS_DISABLED")
    tracing_disabled: FlagOff = Field(default=False, validation_alias="POWERTOOLS_TRACE_DISABLED")

    @property
    def metrics_on(self) -> bool:
        return not self.metrics_disabled

    @property
    def tracing_on(self) -> bool:
        return not self.tracing_disabled


@functools.cache
def powertools() -> Powertools:
    """Read once per process (a function's environment does not change while it runs)."""
    return Powertools.from_env()


class Settings(FromEnvironment):
    """What every function reads: the table, the account secrets, retention. The webhook and
    API functions read only this."""

    table_name: str = Field(min_length=1, validation_alias="TABLE_NAME")
    secrets_prefix: str = Field(default="dlrhub", min_length=1, validation_alias="SECRETS_PREFIX")
    secrets_max_age: int = Field(default=300, ge=0, le=86_400, validation_alias="SECRETS_MAX_AGE")
    retention_days: int = Field(default=90, ge=1, le=3650, validation_alias="RETENTION_DAYS")


class PollerSettings(Settings):
    poll_accounts: Accounts = Field(default_factory=list, validation_alias="POLL_ACCOUNTS")
    concurrency: int = Field(default=8, ge=1, le=64, validation_alias="POLL_CONCURRENCY")
    max_pending_hours: float = Field(default=72, gt=0, le=24 * 30, validation_alias="MAX_PENDING_HOURS")
    no_receipt_status: str = Field(
        default="UNKNOWN", pattern="^(UNKNOWN|EXPIRED)$", validation_alias="NO_RECEIPT_STATUS"
    )
    request_timeout: float = Field(default=10, gt=0, le=60, validation_alias="HTTP_TIMEOUT_SECONDS")
    window_hold_back_minutes: int = Field(default=60, ge=0, le=72 * 60, validation_alias="WINDOW_HOLD_BACK_MINUTES")


class StreamSettings(Settings):
    event_bus_name: str = Field(default="default", min_length=1, validation_alias="EVENT_BUS_NAME")
    #: ``false``: no status-change events (and so no callbacks); the counters are kept either way.
    publish_events: FlagOn = Field(default=True, validation_alias="PUBLISH_EVENTS")


class ReporterSettings(Settings):
    poll_accounts: Accounts = Field(default_factory=list, validation_alias="POLL_ACCOUNTS")
    window_minutes: int = Field(default=60, ge=5, le=1440, multiple_of=5, validation_alias="MONITOR_WINDOW_MINUTES")
    lag_minutes: int = Field(default=60, ge=0, le=1440, validation_alias="MONITOR_LAG_MINUTES")
    catch_up_days: int = Field(default=7, ge=1, le=30, validation_alias="MONITOR_CATCH_UP_DAYS")


class EventsInSettings(Settings):
    #: The hub account that reports arriving as EventBridge events belong to (they name none).
    events_account: AccountName = Field(default="main", validation_alias="EVENTS_ACCOUNT")
