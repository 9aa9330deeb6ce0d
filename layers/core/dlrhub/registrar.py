"""Registering a batch of sent messages: good items stored, bad ones named."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dlrhub.registration import validate_items
from dlrhub.store import MessageStore, Registered
from dlrhub.timefmt import utc_now

#: Parallel UpdateItems for one batch (each is one small write; DynamoDB takes them all).
WORKERS = 16


class ItemError(BaseModel):
    index: int = Field(description="position of the item in `messages`")
    message_id: str | None = None
    reason: str


class RegistrationReply(BaseModel):
    registered: int = Field(description="new messages")
    merged: int = Field(description="reports had arrived first; the registration was added to them")
    already_registered: int = Field(description="registered before; nothing changed")
    rejected: int = Field(description="invalid items, none stored; see errors")
    errors: list[ItemError] = Field(default_factory=list)


class Registrar:
    def __init__(self, store: MessageStore, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def register(self, items: list[Any]) -> RegistrationReply:
        valid, rejected = validate_items(items)
        now = self._clock()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = Counter(pool.map(lambda reg: self._store.register(reg, now), valid))
        return RegistrationReply(
            registered=outcomes[Registered.NEW],
            merged=outcomes[Registered.MERGED],
            already_registered=outcomes[Registered.ALREADY],
            rejected=len(rejected),
            errors=[ItemError(index=r.index, message_id=r.ref, reason=r.reason) for r in rejected],
        )
