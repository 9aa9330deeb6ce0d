"""Function settings, read from the environment once and validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1, validation_alias="TABLE_NAME")
    secrets_prefix: str = Field(default="dlrhub", min_length=1, validation_alias="SECRETS_PREFIX")
    secrets_max_age: int = Field(default=300, ge=0, le=86_400, validation_alias="SECRETS_MAX_AGE")
    retention_days: int = Field(default=90, ge=1, le=3650, validation_alias="RETENTION_DAYS")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if env is None else env))
