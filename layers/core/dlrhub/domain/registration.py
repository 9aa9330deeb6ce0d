"""What the customer tells the hub it sent: ``POST /messages``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from dlrhub.domain.inputs import RejectedItem, reason_of
from dlrhub.domain.report import AccountName, AwareTime, Identifier

MAX_BATCH = 500

Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{5,20}$")]
CustomerRef = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class Registration(BaseModel):
    """One message the customer sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Identifier = Field(description="the provider the message was sent through")
    account: AccountName
    message_id: Identifier = Field(description="the provider's id of the message")
    destination: Phone = Field(description="the number, digits with the country code")
    submitted_at: AwareTime = Field(description="when it was submitted to the provider (ISO-8601 with zone)")
    parts: int | None = Field(default=None, ge=1, le=255)
    customer_ref: CustomerRef | None = None


def validate_items(
    items: list[Any], model: type[Registration] = Registration
) -> tuple[list[Registration], list[RejectedItem]]:
    """Each item checked on its own (as ``model``): the good ones, and the bad ones named by index."""
    valid: list[Registration] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(items):
        try:
            valid.append(model.model_validate(item))
        except ValidationError as error:
            ref = item.get("message_id") if isinstance(item, dict) else None
            rejected.append(RejectedItem(index, reason_of(error), ref if isinstance(ref, str) else None))
    return valid, rejected
