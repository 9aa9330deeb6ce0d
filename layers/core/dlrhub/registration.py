"""What the customer tells the hub it sent: ``POST /messages``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from dlrhub.models import AccountName, AwareTime, Identifier
from dlrhub.providers import PROVIDERS, provider_named
from dlrhub.webhook_io import RejectedItem, reason_of

MAX_BATCH = 500

Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{5,20}$")]
#: Every registered provider's name (the OpenAPI document lists them as an enum).
ProviderName = Literal[tuple(provider.name for provider in PROVIDERS)]  # type: ignore[valid-type]
CustomerRef = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class Registration(BaseModel):
    """One message the customer sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName = Field(description="the provider the message was sent through")
    account: AccountName
    message_id: Identifier = Field(description="the provider's id of the message")
    destination: Phone = Field(description="the number, digits with the country code")
    submitted_at: AwareTime = Field(description="when it was submitted to the provider (ISO-8601 with zone)")
    parts: int | None = Field(default=None, ge=1, le=255)
    customer_ref: CustomerRef | None = None

    @model_validator(mode="after")
    def _the_providers_id(self) -> Registration:
        provider = provider_named(self.provider)
        if (
            provider is not None
            and provider.message_id is not None
            and not provider.message_id.fullmatch(self.message_id)
        ):
            raise ValueError(f"message_id: a {self.provider} message id is {provider.message_id_words}")
        return self


class RegistrationBatch(BaseModel):
    """The request body: items are checked one by one, so good ones are kept beside bad ones."""

    messages: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="each a Registration; checked one by one (bad ones are named, good ones stored)",
        json_schema_extra={"items": Registration.model_json_schema()},
    )


def validate_items(items: list[Any]) -> tuple[list[Registration], list[RejectedItem]]:
    valid, rejected = [], []
    for index, item in enumerate(items):
        try:
            valid.append(Registration.model_validate(item))
        except ValidationError as error:
            ref = item.get("message_id") if isinstance(item, dict) else None
            rejected.append(RejectedItem(index, reason_of(error), ref if isinstance(ref, str) else None))
    return valid, rejected
