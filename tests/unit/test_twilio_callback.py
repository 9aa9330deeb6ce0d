"""Twilio status callbacks: X-Twilio-Signature against the official SDK, parsing, mapping, reply.

``twilio.request_validator.RequestValidator`` (the official SDK, a dev dependency only) is
the oracle for every signature.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from dlrhub.domain.inputs import CallbackForbidden, InvalidInput, ParsedCallback, WebhookRequest, called_url
from dlrhub.domain.report import Cost, Source
from dlrhub.domain.status import Status
from dlrhub.providers.twilio import (
    PROVIDER,
    STATUSES,
    TwilioWebhook,
    check_signature,
    compute_signature,
    map_status,
    url_variants,
)

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
TOKEN = "c0ffee0123456789abcdef0123456789"
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/twilio/main/s3cr3t-s3cr3t-s3cr3t"
CONFIG = TwilioWebhook(webhook_secret="s" * 16, auth_token=TOKEN)
WEBHOOK = PROVIDER.webhook
assert WEBHOOK is not None

#: Twilio's documented status callback example, with To and ErrorCode.
EXAMPLE = {
    "AccountSid": "AC" + "a" * 32,
    "From": "+15017250604",
    "MessageSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9",
    "MessageStatus": "undelivered",
    "SmsSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9",
    "SmsStatus": "undelivered",
    "To": "+15558675310",
    "ErrorCode": "30003",
    "ApiVersion": "2010-04-01",
}


class MultiDict(dict):
    """What the SDK reads repeated parameters from (Django's QueryDict shape: ``getlist``)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._pairs = pairs

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def signed_request(
    params: dict[str, str] | list[tuple[str, str]], url: str = URL, token: str | None = TOKEN, **headers: str
) -> WebhookRequest:
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    found = {"content-type": "application/x-www-form-urlencoded", **headers}
    if token is not None:
        found["x-twilio-signature"] = RequestValidator(token).compute_signature(url, MultiDict(pairs))
    return WebhookRequest("POST", body=urlencode(pairs), headers=found, url=url)


def parse(request: WebhookRequest, config: TwilioWebhook = CONFIG) -> ParsedCallback:
    return WEBHOOK.parse(request, "main", config, NOW)


# -- the signature, against the official SDK ---------------------------------------------


def test_the_docs_example_vector() -> None:
    """Twilio's security page: this URL, these parameters, token 12345."""
    params = {
        "Digits": "1234",
        "To": "+18005551212",
        "From": "+14158675310",
        "Caller": "+14158675310",
        "CallSid": "CA1234567890ABCDE",
    }
    url = "https://example.com/myapp.php?foo=1&bar=2"
    ours = compute_signature(url, list(params.items()), "12345")
    assert ours == RequestValidator("12345").compute_signature(url, params) == "L/OH5YylLD5NRKLltdqwSvS0BnU="


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
VALUES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)


@given(
    url=st.text(max_size=80),
    pairs=st.lists(st.tuples(NAMES, VALUES), max_size=12),
    token=st.text(min_size=1, max_size=40),
)
def test_signature_equals_the_sdks_for_any_parameters(url: str, pairs: list[tuple[str, str]], token: str) -> None:
    """Any names and values, repeated names too (sorted and once each, as the SDK does)."""
    expected = RequestValidator(token).compute_signature(url, MultiDict(pairs))
    assert compute_signature(url, pairs, token) == expected


HOSTS = st.sampled_from(["example.com", "abc123.execute-api.eu-west-1.amazonaws.com", "127.0.0.1"])
PORTS = st.sampled_from(["", ":443", ":80", ":8080", ":3000"])


@given(
    scheme=st.sampled_from(["https", "http"]),
    host=HOSTS,
    port=PORTS,
    signed_port=PORTS,
    query=st.sampled_from(["", "?foo=1&bar=2", "?a=%2B1"]),
    params=st.dictionaries(NAMES, VALUES, max_size=5),
)
def test_a_signature_is_accepted_exactly_when_the_sdk_validates_it(
    scheme: str, host: str, port: str, signed_port: str, query: str, params: dict[str, str]
) -> None:
    """Twilio signs the URL as configured; proxies add or drop the port: the SDK tries both."""
    called = f"{scheme}://{host}{port}/webhooks/twilio/main/s3cr3t{query}"
    signed = f"{scheme}://{host}{signed_port}/webhooks/twilio/main/s3cr3t{query}"
    signature = RequestValidator(TOKEN).compute_signature(signed, params)
    sdk = RequestValidator(TOKEN).validate(called, params, signature)
    request = WebhookRequest("POST", body=urlencode(params), headers={"X-Twilio-Signature": signature}, url=called)
    ours = any(compute_signature(u, list(params.items()), TOKEN) == signature for u in url_variants(called))
    assert ours == sdk
    if sdk:
        check_signature(request, list(params.items()), CONFIG)
    else:
        with pytest.raises(CallbackForbidden):
            check_signature(request, list(params.items()), CONFIG)


def test_the_url_is_rebuilt_from_what_api_gateway_passes_on() -> None:
    path = "/webhooks/twilio/main/s3cr3t"
    assert called_url("https", "abc.example.com", path, "") == f"https://abc.example.com{path}"
    assert called_url(None, "abc.example.com", path, "a=1") == f"https://abc.example.com{path}?a=1"
    assert called_url("http", "127.0.0.1:3000", path, "") == f"http://127.0.0.1:3000{path}"
    assert called_url("https,http", "h", "/", "") == "https://h/"


# -- who may call --------------------------------------------------------------------------


def test_a_signed_callback_is_parsed() -> None:
    [report] = parse(signed_request(EXAMPLE)).reports
    assert (report.message_id, report.status, report.raw_status) == (
        EXAMPLE["MessageSid"],
        Status.FAILED,
        "undelivered",
    )
    assert report.cost is None  # a status callback usually carries no price


def test_a_price_where_a_callback_carries_one_is_the_cost_paid() -> None:
    [report] = parse(signed_request({**EXAMPLE, "Price": "-0.00750", "PriceUnit": "USD"})).reports
    assert report.cost == Cost(amount="0.00750", currency="USD")
    [odd] = parse(signed_request({**EXAMPLE, "Price": "n/a", "PriceUnit": "USD"})).reports
    assert odd.cost is None


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (signed_request(EXAMPLE, token="another-token-0123456789"), "does not match"),
        (replace(signed_request(EXAMPLE, url=URL + "/other"), url=URL), "does not match"),
        (signed_request(EXAMPLE, token=None), "no X-Twilio-Signature"),
    ],
    ids=["other token", "other URL", "unsigned"],
)
def test_a_wrong_or_missing_signature_is_forbidden(request_: WebhookRequest, reason: str) -> None:
    with pytest.raises(CallbackForbidden, match=reason):
        parse(request_)


def test_a_changed_parameter_breaks_the_signature() -> None:
    request = signed_request(EXAMPLE)
    tampered = WebhookRequest(
        "POST", body=request.body.replace("undelivered", "delivered"), headers=request.headers, url=URL
    )
    with pytest.raises(CallbackForbidden):
        parse(tampered)


def test_signing_not_required_takes_unsigned_callbacks_but_still_checks_a_signature() -> None:
    relaxed = TwilioWebhook(webhook_secret="s" * 16, auth_token=TOKEN, signature_required=False)
    assert parse(signed_request(EXAMPLE, token=None), relaxed).reports
    with pytest.raises(CallbackForbidden):
        parse(signed_request(EXAMPLE, token="another-token-0123456789"), relaxed)


def test_without_an_auth_token_signing_cannot_be_required() -> None:
    assert not TwilioWebhook(webhook_secret="s" * 16).requires_signature
    assert TwilioWebhook(webhook_secret="s" * 16, auth_token=TOKEN).requires_signature
    with pytest.raises(ValueError, match="signature_required needs auth_token"):
        TwilioWebhook(webhook_secret="s" * 16, signature_required=True)
    assert parse(signed_request(EXAMPLE, token=None), TwilioWebhook(webhook_secret="s" * 16)).reports


def test_the_previous_auth_token_is_taken_while_rotating() -> None:
    rotating = TwilioWebhook(webhook_secret="s" * 16, auth_token="new-token-0123456789", auth_token_previous=TOKEN)
    assert parse(signed_request(EXAMPLE), rotating).reports
    assert parse(signed_request(EXAMPLE, token="new-token-0123456789"), rotating).reports


def test_the_accounts_callback_url_is_what_was_signed_behind_a_custom_domain() -> None:
    public = "https://dlr.example.com/hub/webhooks/twilio/main/s3cr3t"
    behind = TwilioWebhook(webhook_secret="s" * 16, auth_token=TOKEN, callback_url=public)
    signed = signed_request(EXAMPLE, url=public + "?tag=7")
    rebuilt = WebhookRequest("POST", raw_query="tag=7", body=signed.body, headers=signed.headers, url=URL + "?tag=7")
    assert parse(rebuilt, behind).reports
    with pytest.raises(CallbackForbidden):
        parse(rebuilt)  # the URL API Gateway saw is not the one Twilio signed


# -- what is stored --------------------------------------------------------------------------


def test_every_field_is_kept() -> None:
    [report] = parse(signed_request({**EXAMPLE, "RawDlrDoneDate": "2611251059", "NewField": "x"})).reports
    assert report.provider == "twilio"
    assert report.account == "main"
    assert report.source is Source.WEBHOOK
    assert report.destination == "+15558675310"
    assert report.provider_time is None  # RawDlrDoneDate has no zone: kept as given, not trusted as a time
    assert report.received_at == NOW
    assert report.cost is None  # no price and no segment count in a status callback
    columns = {"MessageSid", "MessageStatus", "To"}
    expected = {name: value for name, value in EXAMPLE.items() if name not in columns}
    assert report.details == {**expected, "RawDlrDoneDate": "2611251059", "NewField": "x"}


@pytest.mark.parametrize(("word", "status"), sorted(STATUSES.items()))
def test_words_map_to_statuses(word: str, status: Status) -> None:
    [report] = parse(signed_request({**EXAMPLE, "MessageStatus": word, "SmsStatus": word})).reports
    assert (report.status, report.raw_status) == (status, word)


def test_the_decided_mappings() -> None:
    assert map_status("failed") is Status.REJECTED  # never left Twilio, not charged
    assert map_status("undelivered") is Status.FAILED
    assert map_status("canceled") is Status.FAILED
    assert map_status("partially_delivered") is Status.PENDING
    assert map_status("sent") is Status.SENT  # settled: where no receipt comes, Twilio's last word
    assert map_status("some_new_word") is Status.PENDING  # never a guessed final status


def test_the_legacy_names_are_taken_alone() -> None:
    legacy = {"SmsSid": EXAMPLE["MessageSid"], "SmsStatus": "delivered", "AccountSid": EXAMPLE["AccountSid"]}
    [report] = parse(signed_request(legacy)).reports
    assert (report.message_id, report.status) == (EXAMPLE["MessageSid"], Status.DELIVERED)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"MessageSid": None, "SmsSid": None}, "MessageSid is missing"),
        ({"MessageStatus": None, "SmsStatus": None}, "MessageStatus is missing"),
        ({"MessageSid": "SM123", "SmsSid": None}, "MessageSid must be"),
        ({"MessageStatus": "deli vered", "SmsStatus": None}, "MessageStatus must be a word"),
    ],
)
def test_malformed_callbacks_are_400(changes: dict[str, Any], reason: str) -> None:
    params = {key: value for key, value in {**EXAMPLE, **changes}.items() if value is not None}
    with pytest.raises(InvalidInput, match=reason):
        parse(signed_request(params))


def test_two_different_message_sids_are_400() -> None:
    pairs = [*EXAMPLE.items(), ("MessageSid", "SM" + "b" * 32)]
    with pytest.raises(InvalidInput, match="more than once"):
        parse(signed_request(pairs))


def test_the_reply_is_200_with_an_empty_body() -> None:
    reply = WEBHOOK.acknowledge(parse(signed_request(EXAMPLE)), [True])
    assert (reply.status_code, reply.body) == (200, "")


# -- any input: a clear 4xx or a report ------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(
    body=st.one_of(TEXT, st.lists(st.tuples(NAMES, VALUES), max_size=8).map(urlencode)),
    headers=st.dictionaries(st.sampled_from(["x-twilio-signature", "X-Twilio-Signature", "content-type"]), TEXT),
    url=st.one_of(st.just(URL), TEXT),
    required=st.booleans(),
)
def test_any_request_is_a_report_or_a_clear_refusal(
    body: str, headers: dict[str, str], url: str, required: bool
) -> None:
    config = TwilioWebhook(webhook_secret="s" * 16, auth_token=TOKEN, signature_required=required)
    try:
        parsed = parse(WebhookRequest("POST", body=body, headers=headers, url=url), config)
    except (InvalidInput, CallbackForbidden):
        return
    assert len(parsed.reports) == 1


FIELD_VALUES = st.one_of(st.sampled_from(["", "SM" + "c" * 32, "delivered", "+15558675310", "x" * 40]), VALUES)


@settings(max_examples=300)
@given(
    fields=st.dictionaries(
        st.sampled_from(["MessageSid", "MessageStatus", "SmsSid", "SmsStatus", "To", "ErrorCode", "From", "X"]),
        FIELD_VALUES,
    )
)
def test_any_signed_fields_are_a_report_or_a_400(fields: dict[str, str]) -> None:
    """Signed correctly, so the parser itself is what answers."""
    try:
        parsed = parse(signed_request(fields))
    except InvalidInput:
        return
    [report] = parsed.reports
    assert report.raw_status in {fields.get("MessageStatus"), fields.get("SmsStatus")}
