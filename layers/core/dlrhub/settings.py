"""Function settings, read from the environment once and validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from dlrhub.models import AccountName


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1, validation_alias="TABLE_NAME")
    secrets_prefix: str = Field(default="dlrhub", min_length=1, validation_alias="SECRETS_PREFIX")
    secrets_max_age: int = Field(default=300, ge=0, le=86_400, validation_alias="SECRETS_MAX_AGE")
    retention_days: int = Field(default=90, ge=1, le=3650, validation_alias="RETENTION_DAYS")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if env is None else env))


class PollerSettings(Settings):
    poll_accounts: str = Field(default="", validation_alias="POLL_ACCOUNTS")
    concurrency: int = Field(default=8, ge=1, le=64, validation_alias="POLL_CONCURRENCY")
    max_pending_hours: float = Field(default=72, gt=0, le=24 * 30, validation_alias="MAX_PENDING_HOURS")
    no_receipt_status: str = Field(
        default="UNKNOWN", pattern="^(UNKNOWN|EXPIRED)$", validation_alias="NO_RECEIPT_STATUS"
    )
    request_timeout: float = Field(default=10, gt=0, le=60, validation_alias="HTTP_TIMEOUT_SECONDS")
    window_hold_back_minutes: int = Field(default=60, ge=0, le=72 * 60, validation_alias="WINDOW_HOLD_BACK_MINUTES")


class StreamSettings(Settings):
    event_bus_name: str = Field(default="default", min_length=1, validation_alias="EVENT_BUS_NAME")


class MonitorEnv(Settings):
    poll_accounts: str = Field(default="", validation_alias="POLL_ACCOUNTS")
    window_minutes: int = Field(default=60, ge=5, le=1440, multiple_of=5, validation_alias="MONITOR_WINDOW_MINUTES")
    lag_minutes: int = Field(default=60, ge=0, le=1440, validation_alias="MONITOR_LAG_MINUTES")
    catch_up_days: int = Field(default=7, ge=1, le=30, validation_alias="MONITOR_CATCH_UP_DAYS")


class EventsSettings(Settings):
    #: The hub account that reports arriving as EventBridge events belong to (they name none).
    events_account: AccountName = Field(default="main", validation_alias="EVENTS_ACCOUNT")
