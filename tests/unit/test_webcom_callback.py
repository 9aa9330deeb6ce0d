"""Webcom Mobi's JSON webhook (docs/providers.md#webcom-mobi): parsing, times, acknowledgement."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from dlrhub.adapters.secrets import read_account
from dlrhub.domain.inputs import InvalidInput, ParsedCallback, WebhookRequest
from dlrhub.domain.report import Source
from dlrhub.domain.status import Status
from dlrhub.providers.contract import Capability
from dlrhub.providers.webcom import PROVIDER, WebcomWebhook

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
SECRET = "s" * 16
CONFIG = WebcomWebhook(webhook_secret=SECRET)  # no utc_offset: the documented default, +03:00
WEBHOOK = PROVIDER.webhook
assert WEBHOOK is not None


def parse(body: Any, config: WebcomWebhook = CONFIG) -> ParsedCallback:
    text = body if isinstance(body, str) else json.dumps(body)
    return WEBHOOK.parse(WebhookRequest("POST", body=text), "demo", config, NOW)


def item(id_sms: Any = 3234, state: Any = "deliver", time: Any = "2011-01-01 12:57:46", **more: Any) -> dict:
    return {"id_sms": id_sms, "time": time, "state": state, **more}


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("send", Status.PENDING),
        ("partly_deliver", Status.PENDING),  # "sent, but the status was not received": not final
        ("deliver", Status.DELIVERED),
        ("read", Status.READ),
        ("not_deliver", Status.FAILED),
        ("expired", Status.EXPIRED),
    ],
)
def test_every_documented_state(state: str, status: Status) -> None:
    [report] = parse([item(state=state)]).reports
    assert report.status is status
    assert report.raw_status == state
    assert report.message_id == "3234"
    assert report.provider == "webcom"
    assert report.account == "demo"
    assert report.source is Source.WEBHOOK
    assert report.received_at == NOW
    assert report.destination is None  # Webcom does not send the number


@pytest.mark.parametrize("state", ["delivered", "DELIVER", "queued", "x" * 32])
def test_an_undocumented_state_stays_pending_with_the_word_kept(state: str) -> None:
    [report] = parse([item(state=state)]).reports
    assert report.status is Status.PENDING
    assert report.raw_status == state


@pytest.mark.parametrize(
    ("utc_offset", "expected"),
    [
        (None, datetime(2011, 1, 1, 9, 57, 46, tzinfo=UTC)),  # default +03:00
        ("+03:00", datetime(2011, 1, 1, 9, 57, 46, tzinfo=UTC)),
        ("+00:00", datetime(2011, 1, 1, 12, 57, 46, tzinfo=UTC)),
        ("-05:30", datetime(2011, 1, 1, 18, 27, 46, tzinfo=UTC)),
        ("+14:00", datetime(2010, 12, 31, 22, 57, 46, tzinfo=UTC)),
    ],
)
def test_time_is_read_in_the_accounts_utc_offset(utc_offset: str | None, expected: datetime) -> None:
    extra = {} if utc_offset is None else {"utc_offset": utc_offset}
    [report] = parse([item()], WebcomWebhook(webhook_secret=SECRET, **extra)).reports
    assert report.provider_time == expected
    assert report.event_time == expected


def test_send_comes_with_an_empty_time_and_is_dated_on_receipt() -> None:
    [report] = parse([item(state="send", time="")]).reports
    assert report.provider_time is None
    assert report.event_time == NOW


def test_time_change_state_is_read_when_time_is_absent() -> None:
    """The shape of the state.php answer: the same object with ``time_change_state``."""
    entry = {"id_sms": 82216, "time_change_state": "2021-04-26 15:15:03", "state": "deliver", "num_parts": 1}
    [report] = parse([entry]).reports
    assert report.provider_time == datetime(2021, 4, 26, 12, 15, 3, tzinfo=UTC)


@pytest.mark.parametrize("utc_offset", ["+3", "03:00", "UTC", "+03:00:00", ""])
def test_a_misconfigured_utc_offset_is_a_configuration_error_naming_the_key(utc_offset: str) -> None:
    account = read_account(PROVIDER, "main", {"webhook_secret": SECRET, "utc_offset": utc_offset}, [Capability.WEBHOOK])
    assert account.on(Capability.WEBHOOK) is None
    assert "utc_offset" in str(account.problem(Capability.WEBHOOK))


def test_every_field_but_the_id_is_kept_as_given() -> None:
    entry = item(state="deliver", num_parts=2, price=10.6, note=None)
    [report] = parse([entry]).reports
    assert report.details == {"time": "2011-01-01 12:57:46", "state": "deliver", "num_parts": "2", "price": "10.6"}


def test_an_id_given_as_digits_text_is_taken_and_echoed_as_given() -> None:
    parsed = parse([item(id_sms="3235")])
    assert [report.message_id for report in parsed.reports] == ["3235"]
    reply = WEBHOOK.acknowledge(parsed, [True])
    assert json.loads(reply.body) == [{"id_sms": "3235"}]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"time": "2021-04-26 15:15:03", "state": "deliver"}, "id_sms must be a whole number"),
        (item(id_sms=None), "id_sms must be a whole number"),
        (item(id_sms=True), "id_sms must be a whole number"),
        (item(id_sms=-5), "id_sms must be a whole number"),
        (item(id_sms=1.5), "id_sms must be a whole number"),
        (item(id_sms="12ab"), "id_sms must be a whole number"),
        (item(id_sms="1" * 21), "id_sms must be a whole number"),
        (item(state=None), "state must be a word"),
        (item(state=""), "state must be a word"),
        (item(state=7), "state must be a word"),
        (item(state="x" * 33), "state must be a word"),
        (item(time="26.04.2021 15:15"), "time '26.04.2021 15:15' is not like 2021-04-26 15:15:03"),
        (item(time="2021-04-26T15:15:03"), "is not like 2021-04-26 15:15:03"),
        (item(time=1619439303), "time must be text"),
        ("3236", "each item must be an object"),
        ([3236], "each item must be an object"),
    ],
)
def test_a_bad_item_is_rejected_with_a_reason_and_the_others_are_taken(bad: Any, reason: str) -> None:
    parsed = parse([item(id_sms=1), bad, item(id_sms=2)])
    assert [report.message_id for report in parsed.reports] == ["1", "2"]
    [rejected] = parsed.rejected
    assert rejected.index == 1
    assert reason in rejected.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "the body is empty"),
        ("   ", "the body is empty"),
        ("id_sms=3234&state=deliver", "the body is not JSON"),
        ('[{"id_sms": 3234,', "the body is not JSON"),
        (json.dumps(item()), "the body must be a JSON array"),
        ('"deliver"', "the body must be a JSON array"),
        ("3234", "the body must be a JSON array"),
        ("null", "the body must be a JSON array"),
        (json.dumps([item(id_sms=n) for n in range(1001)]), "at most 1000 items"),
    ],
)
def test_a_body_that_is_not_an_array_of_items_is_refused_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse(body)


def test_the_acknowledgement_names_exactly_the_stored_ids_in_order() -> None:
    parsed = parse([item(id_sms=n, state=s) for n, s in [(10, "deliver"), (11, "read"), (12, "send"), (13, "x")]])
    reply = WEBHOOK.acknowledge(parsed, [True, False, True, True])
    assert reply.status_code == 200
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == [{"id_sms": 10}, {"id_sms": 12}, {"id_sms": 13}]


def test_rejected_items_are_not_acknowledged_so_they_are_sent_again() -> None:
    parsed = parse([item(id_sms=20), item(id_sms=21, time="bad"), item(id_sms=22)])
    reply = WEBHOOK.acknowledge(parsed, [True, True])
    assert json.loads(reply.body) == [{"id_sms": 20}, {"id_sms": 22}]


def test_nothing_stored_acknowledges_nothing() -> None:
    parsed = parse([item(id_sms=30), item(id_sms=31)])
    assert json.loads(WEBHOOK.acknowledge(parsed, [False, False]).body) == []
    assert json.loads(WEBHOOK.acknowledge(parse([]), []).body) == []
