"""What ``POST /messages`` accepts: each item checked on its own, bad ones named with index and reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from dlrhub.domain.registration import MAX_BATCH, Registration
from dlrhub.domain.registration import validate_items as validate_each
from dlrhub.providers.registry import PROVIDERS
from dlrhub.services.api import Registration as KnownRegistration
from dlrhub.services.api import RegistrationBatch


def validate_items(items: list[Any]) -> tuple[list[Registration], list[Any]]:
    """As the API checks them: as registrations of providers the hub knows."""
    return validate_each(items, KnownRegistration)


def good(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "provider": "infin8linx",
        "account": "demo",
        "message_id": "36160109669",
        "destination": "628131565746",
        "submitted_at": "2026-11-25T10:00:00Z",
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not None}


def test_good_items_are_all_kept_in_order() -> None:
    items = [
        good(),
        good(provider="webcom", message_id="82216", destination="+79161234567", parts=2, customer_ref="order-1"),
        good(provider="huawei", message_id="a.b:c-d_1", submitted_at="2026-11-25T13:00:00+03:00"),
        good(provider="innopaas", parts=1),
        good(provider="innopaas", parts=255),
    ]
    valid, rejected = validate_items(items)
    assert rejected == []
    assert [(reg.provider, reg.message_id) for reg in valid] == [(i["provider"], i["message_id"]) for i in items]
    assert valid[1].parts == 2
    assert valid[1].customer_ref == "order-1"
    assert valid[2].submitted_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert valid[2].submitted_at.utcoffset() == timedelta(hours=3)


def test_every_registered_provider_can_be_registered() -> None:
    valid, rejected = validate_items([good(provider=provider.name) for provider in PROVIDERS])
    assert (len(valid), rejected) == (len(PROVIDERS), [])


def test_an_unknown_provider_is_refused_naming_every_registered_one() -> None:
    _, [rejected] = validate_items([good(provider="nosuch")])
    assert rejected.reason.startswith("provider:")
    for provider in PROVIDERS:
        assert f"'{provider.name}'" in rejected.reason


BAD_ITEMS: dict[str, tuple[Any, str]] = {
    # name: (item, words its reason must contain)
    "missing provider": ({k: v for k, v in good().items() if k != "provider"}, "provider"),
    "missing message_id": ({k: v for k, v in good().items() if k != "message_id"}, "message_id"),
    "missing destination": ({k: v for k, v in good().items() if k != "destination"}, "destination"),
    "missing submitted_at": ({k: v for k, v in good().items() if k != "submitted_at"}, "submitted_at"),
    "naive submitted_at": (good(submitted_at="2026-11-25T10:00:00"), "timezone"),
    "not a time": (good(submitted_at="yesterday"), "submitted_at"),
    "before year 1 in UTC": (good(submitted_at="0001-01-01T00:00:00+01:00"), "out of range"),
    "after year 9999 in UTC": (good(submitted_at="9999-12-31T23:00:00-05:00"), "out of range"),
    "destination with letters": (good(destination="62813abc5746"), "destination"),
    "destination too short": (good(destination="1234"), "destination"),
    "destination too long": (good(destination="1" * 21), "destination"),
    "parts zero": (good(parts=0), "parts"),
    "parts too many": (good(parts=256), "parts"),
    "account with a space": (good(account="de mo"), "account"),
    "message_id with a slash": (good(message_id="a/b"), "message_id"),
    "unknown field": (good(colour="blue"), "colour"),
    "not an object (list)": ([good()], "Registration"),
    "not an object (string)": ("36160109669", "Registration"),
    "not an object (null)": (None, "Registration"),
}


@pytest.mark.parametrize(("item", "words"), BAD_ITEMS.values(), ids=BAD_ITEMS.keys())
def test_bad_item_is_named_with_its_index_and_a_reason(item: Any, words: str) -> None:
    valid, rejected = validate_items([good(message_id="first"), item, good(message_id="last")])
    assert [reg.message_id for reg in valid] == ["first", "last"]
    assert len(rejected) == 1
    assert rejected[0].index == 1
    assert words.lower() in rejected[0].reason.lower(), rejected[0].reason


def test_rejected_item_echoes_its_message_id_only_when_it_is_text() -> None:
    items = [good(provider="nosuch", message_id="m-1"), good(provider="nosuch", message_id=7), ["m-2"]]
    _, rejected = validate_items(items)
    assert [(r.index, r.ref) for r in rejected] == [(0, "m-1"), (1, None), (2, None)]


def test_every_bad_item_of_a_batch_is_named() -> None:
    items = [good(parts=0), good(message_id="ok-1"), good(destination="x"), 42, good(message_id="ok-2")]
    valid, rejected = validate_items(items)
    assert [reg.message_id for reg in valid] == ["ok-1", "ok-2"]
    assert [r.index for r in rejected] == [0, 2, 3]
    assert all(r.reason for r in rejected)


def test_registration_is_frozen() -> None:
    reg = Registration.model_validate(good(submitted_at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5)))))
    with pytest.raises(ValidationError):
        reg.parts = 3  # type: ignore[misc]


@pytest.mark.parametrize("size", [1, MAX_BATCH])
def test_batch_takes_one_to_max_items(size: int) -> None:
    assert len(RegistrationBatch.model_validate({"messages": [good()] * size}).messages) == size


@pytest.mark.parametrize("size", [0, MAX_BATCH + 1])
def test_batch_refuses_empty_and_oversized(size: int) -> None:
    with pytest.raises(ValidationError) as caught:
        RegistrationBatch.model_validate({"messages": [good()] * size})
    assert caught.value.errors()[0]["loc"] == ("messages",)


@pytest.mark.parametrize("body", [{}, {"messages": "x"}, {"messages": {"0": good()}}, []])
def test_batch_needs_a_list_of_messages(body: Any) -> None:
    with pytest.raises(ValidationError):
        RegistrationBatch.model_validate(body)


def test_batch_keeps_bad_items_for_item_by_item_checks() -> None:
    batch = RegistrationBatch.model_validate({"messages": [good(), "junk", None]})
    assert batch.messages[1:] == ["junk", None]


def test_a_webcom_id_must_be_a_number_as_webcom_gives_it() -> None:
    valid, [rejected] = validate_items(
        [good(provider="webcom", message_id="82216"), good(provider="webcom", message_id="ab")]
    )
    assert [reg.message_id for reg in valid] == ["82216"]
    assert (rejected.index, rejected.ref) == (1, "ab")
    assert "whole number" in rejected.reason
