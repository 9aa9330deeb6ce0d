"""InnoPaaS status-report push (docs/providers.md#innopaas): parsing, credentials, reply."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dlrhub.domain.inputs import CallbackForbidden, InvalidInput, ParsedCallback, WebhookRequest
from dlrhub.domain.report import Cost, Source
from dlrhub.domain.status import Status
from dlrhub.providers.innopaas import KEPT_FIELDS, PROVIDER, InnoPaaSWebhook
from dlrhub.table.messages import build_status_update
from tests.support import innopaas_seed_example

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
RECEIVER, PSWD = "rcv-7f3a2c", "pw-91c2e0d4b8"  # distinctive, so a leak is easy to spot

#: InnoPaaS's example report (events/webhook_innopaas_seed_example.json), exactly, but for the receiving credentials.
SEED_EXAMPLE: dict[str, str] = innopaas_seed_example(receiver=RECEIVER, pswd=PSWD)
SECRET = "s" * 16
CONFIG = InnoPaaSWebhook(webhook_secret=SECRET, receiver=RECEIVER, pswd=PSWD)
WEBHOOK = PROVIDER.webhook
assert WEBHOOK is not None


def parse(body: Any, config: InnoPaaSWebhook = CONFIG) -> ParsedCallback:
    text = body if isinstance(body, str) else json.dumps(body)
    return WEBHOOK.parse(WebhookRequest("POST", body=text), "demo", config, NOW)


def report_of(**changes: Any) -> dict[str, Any]:
    """The seed example with ``changes`` (None removes a field)."""
    merged = {**SEED_EXAMPLE, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def test_the_seed_example_is_stored_with_every_field_as_given() -> None:
    [report] = parse(SEED_EXAMPLE).reports
    assert report.provider == "innopaas"
    assert report.account == "demo"
    assert report.message_id == "627239445736452096"
    assert report.status is Status.DELIVERED
    assert report.raw_status == "DELIVRD"
    assert report.provider_time == datetime(2025, 6, 10, 8, 52, 20, 967000, tzinfo=UTC)
    assert report.received_at == NOW
    assert report.source is Source.WEBHOOK
    assert report.destination == "8618888888888"
    # Every documented field but the credentials and those stored as columns of their own:
    assert set(KEPT_FIELDS) == set(SEED_EXAMPLE) - {"receiver", "pswd", "msgid", "mobile", "status"}
    assert report.details == {name: SEED_EXAMPLE[name] for name in KEPT_FIELDS}
    assert report.cost == Cost(amount="0.0567", currency="CNY", parts=1)


def test_the_credentials_are_kept_nowhere() -> None:
    [report] = parse(SEED_EXAMPLE).reports
    written = json.dumps(build_status_update(report, timedelta(days=90)), default=str)
    for text in (report.model_dump_json(), written):
        assert RECEIVER not in text
        assert PSWD not in text
        assert '"pswd"' not in text
        assert '"receiver"' not in text


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("DELIVRD", Status.DELIVERED),
        ("UNDELIV", Status.FAILED),
        ("DELETED", Status.FAILED),
        ("EXPIRED", Status.EXPIRED),
        ("REJECTD", Status.REJECTED),
        ("MBBLACK", Status.REJECTED),
        ("SM11", Status.REJECTED),
        ("SM12", Status.REJECTED),
        ("UNKNOWN", Status.UNKNOWN),
    ],
)
def test_every_documented_status_word(word: str, status: Status) -> None:
    [report] = parse(report_of(status=word)).reports
    assert report.status is status
    assert report.raw_status == word


@pytest.mark.parametrize("word", ["MK:0005", "ID:0076", "delivrd", "ENROUTE", "x" * 32])
def test_any_other_word_is_a_failure_with_the_word_kept(word: str) -> None:
    """Only DELIVRD means success (InnoPaaS documents it so), so an unknown word is FAILED, never PENDING."""
    [report] = parse(report_of(status=word)).reports
    assert report.status is Status.FAILED
    assert report.raw_status == word


@pytest.mark.parametrize(
    ("report_time", "expected"),
    [
        ("1749545540967", datetime(2025, 6, 10, 8, 52, 20, 967000, tzinfo=UTC)),
        (1749545540967, datetime(2025, 6, 10, 8, 52, 20, 967000, tzinfo=UTC)),  # a JSON number too
        ("1000000000000", datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)),
        ("", None),
        (None, None),  # absent
    ],
)
def test_report_time_is_a_millisecond_timestamp(report_time: Any, expected: datetime | None) -> None:
    [report] = parse(report_of(reportTime=report_time)).reports
    assert report.provider_time == expected
    assert report.event_time == (expected or NOW)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"msgid": None}, "msgid is missing"),
        ({"msgid": ""}, "msgid is missing"),
        ({"msgid": {"id": 1}}, "msgid must be text"),
        ({"status": None}, "status is missing"),
        ({"status": "X" * 33}, "status is missing"),
        ({"reportTime": "2025-06-10 16:52:20"}, "reportTime must be a millisecond timestamp"),
        ({"reportTime": "174954554"}, "reportTime must be a millisecond timestamp"),
        ({"mobile": "8" * 33}, "destination"),
        ({"fee": "0,0567"}, "amount"),
        ({"mnoName": ["China", "Mobile"]}, "mnoName must be text"),
    ],
)
def test_a_malformed_report_is_refused_with_the_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse(report_of(**changes))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "the body is empty"),
        ("msgid=1&status=DELIVRD", "the body is not JSON"),
        ("[]", "expected one report object or an array of 1 to 100"),
        (json.dumps([SEED_EXAMPLE] * 101), "expected one report object or an array of 1 to 100"),
        ('"DELIVRD"', "each report must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_report_is_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse(body)


def test_an_array_takes_the_good_reports_and_names_the_bad_ones_for_the_log() -> None:
    parsed = parse([report_of(msgid="1"), report_of(msgid=None), report_of(msgid="3", status="UNDELIV")])
    assert [(r.message_id, r.status) for r in parsed.reports] == [("1", Status.DELIVERED), ("3", Status.FAILED)]
    [rejected] = parsed.rejected
    assert (rejected.index, rejected.reason) == (1, "msgid is missing")
    reply = WEBHOOK.acknowledge(parsed, [True, True])
    assert (reply.status_code, reply.body) == (200, "OK")  # a resend would bring the bad one unchanged


def test_an_array_of_only_bad_reports_is_400_naming_each() -> None:
    with pytest.raises(InvalidInput, match="item 0: msgid is missing; item 1: status is missing"):
        parse([report_of(msgid=None), report_of(status=None)])


def test_a_good_call_is_answered_200_ok() -> None:
    parsed = parse([report_of(msgid="1"), report_of(msgid="2")])
    reply = WEBHOOK.acknowledge(parsed, [True, True])
    assert (reply.status_code, reply.body) == (200, "OK")


@pytest.mark.parametrize(
    ("fee", "currency", "sms_num", "cost"),
    [
        ("0.0567", "CNY", "1", Cost(amount="0.0567", currency="CNY", parts=1)),
        ("0.1134", "CNY", "2", Cost(amount="0.1134", currency="CNY", parts=2)),
        ("0", None, "0", Cost(amount="0", parts=0)),
        ("0.05", "USD", "n/a", Cost(amount="0.05", currency="USD")),
        ("", "CNY", "1", None),
        (None, "CNY", "1", None),
    ],
)
def test_cost_is_fee_currency_and_sms_num(
    fee: str | None, currency: str | None, sms_num: str, cost: Cost | None
) -> None:
    [report] = parse(report_of(fee=fee, currency=currency, smsNum=sms_num)).reports
    assert report.cost == cost


# --- the receiving credentials -------------------------------------------------------


@pytest.mark.parametrize(
    "offered",
    [
        {"receiver": "", "pswd": ""},
        {"receiver": None, "pswd": None},  # absent
    ],
)
def test_empty_credentials_are_accepted_when_the_account_is_configured_empty(offered: dict[str, Any]) -> None:
    empty = (InnoPaaSWebhook(webhook_secret=SECRET), InnoPaaSWebhook(webhook_secret=SECRET, receiver="", pswd=""))
    for config in empty:
        [report] = parse(report_of(**offered), config).reports
        assert report.message_id == SEED_EXAMPLE["msgid"]


@pytest.mark.parametrize(
    "offered",
    [
        {"receiver": "", "pswd": ""},
        {"receiver": None, "pswd": None},
        {"pswd": ""},
        {"pswd": None},
        {"receiver": ""},
        {"pswd": PSWD + "x"},
        {"pswd": PSWD[:-1]},
        {"pswd": PSWD.upper()},
        {"receiver": "someone-else"},
        {"receiver": PSWD, "pswd": RECEIVER},
        {"pswd": {"value": PSWD}},
        {"pswd": [PSWD]},
        {"receiver": 7},
    ],
)
def test_credentials_that_do_not_match_are_forbidden(offered: dict[str, Any]) -> None:
    with pytest.raises(CallbackForbidden, match="receiver/pswd do not match"):
        parse(report_of(**offered))


def test_offered_credentials_are_forbidden_when_the_account_is_configured_empty() -> None:
    with pytest.raises(CallbackForbidden):
        parse(SEED_EXAMPLE, InnoPaaSWebhook(webhook_secret=SECRET))


def test_one_report_with_wrong_credentials_forbids_the_whole_call() -> None:
    with pytest.raises(CallbackForbidden):
        parse([report_of(msgid="1"), report_of(msgid="2", pswd="guess")])


def test_credentials_are_checked_before_the_report_is_read() -> None:
    """A wrong password learns nothing from the parser's reasons."""
    with pytest.raises(CallbackForbidden):
        parse(report_of(pswd="guess", msgid=None))


def test_numeric_credentials_configured_and_sent_as_numbers_match() -> None:
    config = InnoPaaSWebhook.model_validate({"webhook_secret": SECRET, "receiver": 1001, "pswd": 123456})
    [report] = parse(report_of(receiver=1001, pswd="123456"), config).reports
    assert report.status is Status.DELIVERED
