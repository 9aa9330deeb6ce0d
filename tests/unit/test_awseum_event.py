"""AWS End User Messaging SMS delivery events: the rule's pattern, parsing, mapping with isFinal, cost."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlrhub.domain.inputs import InvalidInput, matches
from dlrhub.domain.report import Cost, Source
from dlrhub.domain.status import Status
from dlrhub.providers.awseum import PATTERN, PROVIDER, WORDS, map_event, parse_event
from dlrhub.services.events_in import provider_for
from tests.support import load_event

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
SUCCESSFUL = load_event("eventbridge_awseum_successful.json")  # AWS's current EventBridge example
DELIVERED = load_event("eventbridge_awseum_delivered.json")  # AWS's earlier example, same message id as its SUCCESSFUL


def with_detail(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["detail"].update(changes)
    event["detail"] = {key: value for key, value in event["detail"].items() if value is not None}
    return event


def parse(event: dict[str, Any]) -> Any:
    return parse_event(event, "main", NOW)


def test_the_documented_examples() -> None:
    report = parse(SUCCESSFUL)
    assert (report.provider, report.account, report.source) == ("awseum", "main", Source.EVENT)
    assert (report.message_id, report.status, report.raw_status) == (
        "ed23196c-75ce-4727-93ee-7bf72b64998f",
        Status.SENT,  # accepted by the carrier, isFinal true: settled, though a DELIVERED may still follow
        "TEXT_SUCCESSFUL",
    )
    assert report.provider_time == datetime(2025, 10, 1, 18, 20, 41, 377000, tzinfo=UTC)
    assert report.cost == Cost(amount="0.06087", currency="USD", parts=1)
    assert report.destination is None  # EventBridge's events carry no destination number
    assert report.details["protectConfiguration"] == (
        '{"protectConfigurationId":"protect-e06e5d722c31455286262a108e7d863d","protectStatus":"ALLOW"}'
    )
    assert (report.details["carrierName"], report.details["mcc"], report.details["mnc"]) == ("Movistar", "214", "05")
    assert report.details["event.id"] == SUCCESSFUL["id"]
    delivered = parse(DELIVERED)
    assert (delivered.status, delivered.raw_status) == (Status.DELIVERED, "TEXT_DELIVERED")
    assert delivered.cost == Cost(amount="0.00881", currency="USD", parts=1)  # 0.00581 + carrier fee 0.003


@pytest.mark.parametrize(("word", "status"), sorted(WORDS.items()))
def test_every_word_maps_as_documented_when_final(word: str, status: Status) -> None:
    report = parse(with_detail(DELIVERED, eventType=f"TEXT_{word}", messageStatus=word, isFinal=True))
    assert (report.status, report.raw_status) == (status, f"TEXT_{word}")


@pytest.mark.parametrize(
    ("word", "is_final", "status"),
    [
        ("TEXT_CARRIER_UNREACHABLE", False, Status.PENDING),  # transient: the carrier retries
        ("TEXT_CARRIER_UNREACHABLE", True, Status.FAILED),
        ("TEXT_UNKNOWN", False, Status.PENDING),
        ("TEXT_UNKNOWN", True, Status.UNKNOWN),  # also the 72-hour status
        ("TEXT_SUCCESSFUL", True, Status.SENT),  # AWS: "the final status of the message"
        ("TEXT_SUCCESSFUL", False, Status.PENDING),
        ("TEXT_SUCCESSFUL", None, Status.PENDING),  # SENT only when AWS says so
        ("TEXT_DELIVERED", False, Status.DELIVERED),  # a delivery is a delivery
        ("TEXT_TTL_EXPIRED", True, Status.EXPIRED),
        ("TEXT_SOMETHING_NEW", True, Status.UNKNOWN),  # never a guessed success
        ("TEXT_SOMETHING_NEW", False, Status.PENDING),
        ("TEXT_SOMETHING_NEW", None, Status.PENDING),
        ("TEXT_BLOCKED", None, Status.REJECTED),
    ],
)
def test_is_final_decides_for_failures_and_unknown_words(word: str, is_final: bool | None, status: Status) -> None:
    assert map_event(word, is_final) is status


def test_message_status_stands_in_for_a_missing_event_type() -> None:
    report = parse(with_detail(DELIVERED, eventType=None, messageStatus="DELIVERED"))
    assert (report.status, report.raw_status) == (Status.DELIVERED, "DELIVERED")


def test_prices_are_added_as_decimals() -> None:
    report = parse(with_detail(DELIVERED, totalMessagePrice=0.1, totalCarrierFee=0.2, totalMessageParts=3))
    assert report.cost == Cost(amount="0.3", currency="USD", parts=3)
    assert parse(with_detail(DELIVERED, totalMessagePrice=None, totalCarrierFee=None)).cost is None


def test_the_country_is_iso_country_code_else_the_mccs() -> None:
    assert (parse(SUCCESSFUL).country, parse(DELIVERED).country) == ("ES", "US")
    assert parse(with_detail(DELIVERED, isoCountryCode=None, mcc="510")).country == "ID"
    assert parse(with_detail(DELIVERED, isoCountryCode="Spain", mcc=None)).country is None


def test_a_destination_is_kept_where_the_event_has_one() -> None:
    report = parse(with_detail(DELIVERED, destinationPhoneNumber="+14255550156"))
    assert report.destination == "+14255550156"
    assert "destinationPhoneNumber" not in report.details


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (with_detail(DELIVERED, messageId=None), "messageId is missing"),
        (with_detail(DELIVERED, messageId="a/b"), "messageId is missing or not an id"),
        (with_detail(DELIVERED, eventType=None, messageStatus=None), "eventType is missing"),
        (with_detail(DELIVERED, isFinal="yes"), "isFinal must be true or false"),
        (with_detail(DELIVERED, eventTimestamp="1729099299998"), "eventTimestamp must be Unix milliseconds"),
        (with_detail(DELIVERED, totalMessagePrice="free"), "totalMessagePrice must be a number"),
        (with_detail(DELIVERED, totalMessageParts=1.5), "totalMessageParts must be"),
        ({**DELIVERED, "detail": "not an object"}, "detail must be an object"),
        ({**DELIVERED, "source": "aws.pinpoint"}, "not a 'Text Message Delivery Status Updated' event"),
    ],
)
def test_malformed_events_are_refused_with_the_reason(event: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse(event)


def test_the_pattern_picks_the_provider() -> None:
    assert PATTERN == {"source": ["aws.sms-voice"], "detail-type": ["Text Message Delivery Status Updated"]}
    assert provider_for(DELIVERED) is PROVIDER
    assert provider_for({**DELIVERED, "detail-type": "Media Message Delivery Status Updated"}) is None
    assert provider_for({**DELIVERED, "source": "dlrhub"}) is None  # the hub's own events


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ({"source": ["a"]}, {"source": "a"}, True),
        ({"source": ["a", "b"]}, {"source": "b"}, True),
        ({"source": ["a"]}, {"source": "c"}, False),
        ({"source": ["a"]}, {}, False),
        ({"detail": {"x": [1]}}, {"detail": {"x": 1}}, True),
        ({"detail": {"x": [1]}}, {"detail": {"x": 2}}, False),
        ({"detail": {"x": [1]}}, {"detail": "x"}, False),
        ({"resources": ["r"]}, {"resources": ["q", "r"]}, True),
        ({"source": ["a"]}, "not an event", False),
    ],
)
def test_pattern_matching(pattern: dict[str, Any], event: Any, expected: bool) -> None:
    assert matches(pattern, event) is expected


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
DETAIL_KEYS = st.sampled_from(
    [
        "messageId",
        "eventType",
        "messageStatus",
        "isFinal",
        "eventTimestamp",
        "totalMessageParts",
        "totalMessagePrice",
        "totalCarrierFee",
        "destinationPhoneNumber",
        "context",
        "other",
    ]
)
LIKELY = st.sampled_from(
    ["9539975a-e71f-45f3-b496-8d98dc098a77", "TEXT_DELIVERED", "DELIVERED", 1729099299998, 0.5, 3, True]
)


@settings(max_examples=400)
@given(
    changes=st.dictionaries(DETAIL_KEYS, st.one_of(LIKELY, JSON), max_size=6), drop=st.lists(DETAIL_KEYS, max_size=3)
)
def test_any_detail_is_a_report_or_a_clear_refusal(changes: dict[str, Any], drop: list[str]) -> None:
    event = with_detail(DELIVERED, **changes)
    for key in drop:
        event["detail"].pop(key, None)
    try:
        report = parse(event)
    except InvalidInput:
        return
    assert report.message_id == event["detail"]["messageId"]


@given(event=JSON)
def test_any_json_at_all_is_a_report_or_a_clear_refusal(event: Any) -> None:
    try:
        parse_event(event if isinstance(event, dict) else {"detail": event}, "main", NOW)
    except InvalidInput:
        return
