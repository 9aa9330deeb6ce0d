"""Vonage SMS API delivery receipts: signatures against the official SDKs, parsing, mapping, reply.

Oracles: ``vonage_http_client.Auth`` (SDK v4) for the HMAC methods and ``vonage.Client``
(SDK 3.x, the one official signer of the dashboard's default "MD5 hash") for ``md5hash``.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vonage_http_client import Auth

from dlrhub.domain.inputs import CallbackForbidden, InvalidInput, ParsedCallback, WebhookRequest
from dlrhub.domain.report import Cost, Source
from dlrhub.domain.status import Status
from dlrhub.providers.vonage import PROVIDER, STATUSES, VonageWebhook, compute_signature, map_status

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # "v3 of the Vonage Python SDK is now deprecated"
    import vonage as vonage_v3

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
SECRET = "signature_secret"
HMACS = ["md5", "sha1", "sha256", "sha512"]
WEBHOOK = PROVIDER.webhook
assert WEBHOOK is not None

#: The delivery receipt of Vonage's guide, verbatim.
EXAMPLE = {
    "err-code": "0",
    "message-timestamp": "2018-10-25 12:10:29",
    "messageId": "0B00000127FDBC63",
    "msisdn": "447547232824",
    "network-code": "23410",
    "price": "0.03330000",
    "scts": "1810251310",
    "status": "delivered",
    "to": "Nexmo CLI",
}


def md5hash_oracle(params: dict[str, Any], secret: str) -> str:
    client = vonage_v3.Client(key="key", secret="secret", signature_secret=secret)
    return client.signature(dict(params))


def hmac_oracle(params: dict[str, Any], secret: str, method: str) -> str:
    return Auth(api_key="key", signature_secret=secret, signature_method=method).sign_params(dict(params))


def signed(params: dict[str, str], secret: str = SECRET, method: str = "sha256", at: datetime = NOW) -> dict[str, str]:
    """``params`` with ``timestamp``, ``nonce`` and a ``sig`` computed by the official SDK."""
    params = {**params, "timestamp": str(int(at.timestamp())), "nonce": "1f7a3c2e-0000-4000-8000-000000000000"}
    sig = md5hash_oracle(params, secret) if method == "md5hash" else hmac_oracle(params, secret, method)
    return {**params, "sig": sig}


def config(**keys: Any) -> VonageWebhook:
    return VonageWebhook(webhook_secret="s" * 16, **keys)


SIGNED = config(signature_secret=SECRET, signature_method="sha256")


def as_json(params: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", body=json.dumps(params), headers={"content-type": "application/json"})


def as_form(params: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", body=urlencode(params), headers={"content-type": "application/x-www-form-urlencoded"})


def as_get(params: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("GET", raw_query=urlencode(params))


def parse(request: WebhookRequest, keys: VonageWebhook = SIGNED, at: datetime = NOW) -> ParsedCallback:
    return WEBHOOK.parse(request, "main", keys, at)


# -- the signature, against the official SDKs -----------------------------------------------


def test_the_sdks_own_vectors() -> None:
    """http_client/tests/test_auth.py of the SDK, and MD5 hash by hashlib (the notes' vector)."""
    base = {"param1": "value1", "param2": "value2", "timestamp": "1234567890"}
    assert compute_signature(base, SECRET, "sha256") == (
        "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287"
    )
    assert compute_signature(base, SECRET, "md5") == "724c2bf6ca423c36e20631b11d1c5753"
    escaped = {"param1": "value&1", "param2": "value=2", "timestamp": "1234567890"}
    assert compute_signature(escaped, SECRET, "md5") == "2bbf0abafb2c55e5af6231513896a2ac"
    one = {"param": "value", "timestamp": "1234567890"}
    assert compute_signature(one, SECRET, "sha1") == "ffa9a262fb8908000ad07e561380a35c4f9a54bb"
    assert compute_signature(one, SECRET, "md5hash") == "6d4e7072fdddafbbdf57825610c394d1"
    assert md5hash_oracle(one, SECRET) == "6d4e7072fdddafbbdf57825610c394d1"


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)
#: Any names but ``sig`` (never signed: the SDKs' check_signature takes it out first).
NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda name: name != "sig"
)
PARAMS = st.dictionaries(NAMES, TEXT)


@given(params=PARAMS, secret=st.text(min_size=1, max_size=40), method=st.sampled_from(HMACS))
def test_hmac_signatures_equal_the_v4_sdks(params: dict[str, str], secret: str, method: str) -> None:
    params = {**params, "timestamp": "1795604400"}
    assert compute_signature(params, secret, method) == hmac_oracle(params, secret, method)  # type: ignore[arg-type]


@given(params=PARAMS, secret=st.text(min_size=1, max_size=40))
def test_md5_hash_signatures_equal_the_v3_sdks(params: dict[str, str], secret: str) -> None:
    params = {**params, "timestamp": "1795604400"}
    assert compute_signature(params, secret, "md5hash") == md5hash_oracle(params, secret)


@pytest.mark.parametrize("method", ["md5hash", *HMACS])
@pytest.mark.parametrize("shape", [as_json, as_form, as_get], ids=["json", "form", "get"])
def test_a_receipt_signed_by_the_sdk_is_taken_in_every_format(method: str, shape: Any) -> None:
    keys = config(signature_secret=SECRET, signature_method=method)
    [report] = parse(shape(signed(EXAMPLE, method=method)), keys).reports
    assert (report.message_id, report.status) == ("0B00000127FDBC63", Status.DELIVERED)


def test_the_v4_sdk_checks_what_the_hub_signs() -> None:
    params = {**EXAMPLE, "timestamp": "1795604400", "nonce": "n"}
    ours = compute_signature(params, SECRET, "sha256")
    auth = Auth(api_key="key", signature_secret=SECRET, signature_method="sha256")
    assert auth.check_signature({**params, "sig": ours.upper()})


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (signed(EXAMPLE, secret="another-secret"), "sig does not match"),
        (signed(EXAMPLE, method="sha512"), "sig does not match"),  # the account says sha256
        ({**signed(EXAMPLE), "status": "failed"}, "sig does not match"),
        (EXAMPLE, "not signed"),
        (signed(EXAMPLE, at=NOW - timedelta(days=2)), "timestamp too old"),
        (signed(EXAMPLE, at=NOW + timedelta(minutes=10)), "timestamp in the future"),
    ],
    ids=["other secret", "other method", "changed field", "unsigned", "stale", "future"],
)
def test_wrong_missing_or_stale_signatures_are_forbidden(params: dict[str, str], reason: str) -> None:
    with pytest.raises(CallbackForbidden, match=reason):
        parse(as_json(params))


def test_a_timestamp_needs_digits_once_the_sig_matched() -> None:
    params = {**EXAMPLE, "timestamp": "yesterday"}
    params["sig"] = hmac_oracle(params, SECRET, "sha256")
    with pytest.raises(CallbackForbidden, match="timestamp"):
        parse(as_json(params))


def test_upper_case_sigs_are_taken() -> None:
    params = signed(EXAMPLE)
    assert parse(as_json({**params, "sig": params["sig"].upper()})).reports


def test_the_age_limit_is_the_accounts() -> None:
    keys = config(signature_secret=SECRET, signature_method="sha256", signature_max_age=600)
    assert parse(as_json(signed(EXAMPLE, at=NOW - timedelta(minutes=9))), keys).reports
    with pytest.raises(CallbackForbidden, match="too old"):
        parse(as_json(signed(EXAMPLE, at=NOW - timedelta(minutes=11))), keys)


def test_signing_is_required_by_default_only_with_a_secret() -> None:
    assert SIGNED.requires_signature
    assert not config().requires_signature
    assert parse(as_json(EXAMPLE), config()).reports
    relaxed = config(signature_secret=SECRET, signature_method="sha256", signature_required=False)
    assert parse(as_json(EXAMPLE), relaxed).reports
    with pytest.raises(CallbackForbidden):
        parse(as_json(signed(EXAMPLE, secret="another-secret")), relaxed)  # a signature given is still checked
    with pytest.raises(ValueError, match="signature_required needs signature_secret"):
        config(signature_required=True)


# -- what is stored ---------------------------------------------------------------------------


def test_the_guides_receipt_is_stored_with_every_field() -> None:
    keys = config(price_currency="EUR")
    [report] = parse(as_json(EXAMPLE), keys).reports
    assert report.provider == "vonage"
    assert report.source is Source.WEBHOOK
    assert (report.message_id, report.status, report.raw_status) == ("0B00000127FDBC63", Status.DELIVERED, "delivered")
    assert report.destination == "447547232824"
    assert report.provider_time == datetime(2018, 10, 25, 12, 10, 29, tzinfo=UTC)  # message-timestamp, as UTC
    assert report.cost == Cost(amount="0.03330000", currency="EUR", parts=1)  # one receipt is one part
    assert report.country == "GB"  # network-code 23410: MCC 234
    assert report.details == {
        key: value for key, value in EXAMPLE.items() if key not in {"messageId", "msisdn", "status"}
    }


def test_signature_fields_but_sig_are_kept() -> None:
    [report] = parse(as_json(signed(EXAMPLE))).reports
    assert "sig" not in report.details
    assert report.details["timestamp"] == str(int(NOW.timestamp()))
    assert "nonce" in report.details


def test_without_a_currency_the_price_is_kept_without_one() -> None:
    [report] = parse(as_json(EXAMPLE), config()).reports
    assert report.cost == Cost(amount="0.03330000", currency=None, parts=1)


def test_cosmetic_fields_that_are_odd_are_kept_not_refused() -> None:
    odd = {**EXAMPLE, "price": "n/a", "message-timestamp": "25/10/2018", "msisdn": "hidden"}
    [report] = parse(as_json(odd), config()).reports
    assert (report.cost, report.provider_time, report.destination) == (None, None, None)
    assert report.details["price"] == "n/a"


@pytest.mark.parametrize(("word", "status"), sorted(STATUSES.items()))
def test_words_map_to_statuses(word: str, status: Status) -> None:
    [report] = parse(as_get({**EXAMPLE, "status": word}), config()).reports
    assert (report.status, report.raw_status) == (status, word)


def test_an_undocumented_word_stays_pending() -> None:
    assert map_status("delivering") is Status.PENDING


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (as_json({k: v for k, v in EXAMPLE.items() if k != "messageId"}), "messageId is missing"),
        (as_json({k: v for k, v in EXAMPLE.items() if k != "status"}), "status is missing"),
        (as_json({**EXAMPLE, "messageId": "0B/../x"}), "messageId must be"),
        (as_json({**EXAMPLE, "status": "deli vered"}), "status must be a word"),
        (as_json({**EXAMPLE, "price": {"amount": 1}}), "price must be text"),
        (WebhookRequest("POST", body="[1, 2]", headers={"content-type": "application/json"}), "one receipt object"),
        (WebhookRequest("POST", body="{not json", headers={"content-type": "application/json"}), "not JSON"),
        (WebhookRequest("GET", raw_query="messageId=a&messageId=b&status=x"), "more than once"),
    ],
    ids=["no id", "no status", "bad id", "bad status", "object", "array", "not json", "repeated"],
)
def test_malformed_receipts_are_400(request_: WebhookRequest, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse(request_, config())


def test_a_post_without_a_body_is_read_from_its_query() -> None:
    [report] = parse(WebhookRequest("POST", raw_query=urlencode(EXAMPLE)), config()).reports
    assert report.message_id == "0B00000127FDBC63"


def test_the_reply_is_200_ok() -> None:
    reply = WEBHOOK.acknowledge(parse(as_json(EXAMPLE), config()), [True])
    assert (reply.status_code, reply.body) == (200, "OK")


# -- any input: a clear 4xx or a report --------------------------------------------------------

BODY = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
VALUE = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2))
FIELDS = st.dictionaries(
    st.sampled_from(["messageId", "status", "msisdn", "price", "message-timestamp", "timestamp", "sig", "other"]),
    st.one_of(st.sampled_from(["0B00000127FDBC63", "delivered", "447547232824", "0.03", "1795604400"]), VALUE),
)


@settings(max_examples=300)
@given(
    method=st.sampled_from(["GET", "POST"]),
    query=BODY,
    body=st.one_of(BODY, FIELDS.map(json.dumps)),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]),
    keys=st.sampled_from([config(), SIGNED, config(signature_secret=SECRET, signature_required=False)]),
)
def test_any_request_is_a_report_or_a_clear_refusal(
    method: str, query: str, body: str, content_type: str, keys: VonageWebhook
) -> None:
    request = WebhookRequest(method, raw_query=query, body=body, headers={"content-type": content_type})
    try:
        parsed = parse(request, keys)
    except (InvalidInput, CallbackForbidden):
        return
    assert len(parsed.reports) == 1


@settings(max_examples=200)
@given(fields=FIELDS.filter(lambda f: all(isinstance(v, str) for v in f.values())))
def test_any_correctly_signed_fields_are_a_report_or_a_clear_refusal(fields: dict[str, str]) -> None:
    fields = {key: value for key, value in fields.items() if key not in {"sig", "timestamp"}}
    try:
        parsed = parse(as_json(signed(fields)))
    except InvalidInput:
        return
    assert len(parsed.reports) == 1
