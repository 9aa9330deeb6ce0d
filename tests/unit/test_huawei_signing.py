"""dlrhub's SDK-HMAC-SHA256 signer against Huawei's official one (huaweicloudsdkcore), as the oracle."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from hypothesis import given, settings
from hypothesis import strategies as st

from dlrhub.providers.huawei import canonical_request, sign_request

HOST = "smn.ap-southeast-1.myhuaweicloud.com"
AK, SK = "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
WHEN = datetime(2026, 11, 25, 11, 2, 3, tzinfo=UTC)
Pairs = list[tuple[str, str]]


def _encode(text: str) -> str:
    return quote(text, safe="~")


def url_of(path: str, query: Pairs) -> str:
    """The URL as a client sends it: path and query percent-encoded, the query in the given order."""
    encoded = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in query)
    return f"https://{HOST}{path}" + (f"?{encoded}" if encoded else "")


def official(method: str, path: str, query: Pairs, headers: dict[str, str], body: str = "") -> str:
    """The Authorization header huaweicloudsdkcore's Signer computes for the same request."""
    request = SdkRequest(
        method=method,
        schema="https",
        host=HOST,
        resource_path=path,
        query_params=list(query),
        header_params={**headers, "X-Sdk-Date": WHEN.strftime("%Y%m%dT%H%M%SZ")},
        body=body,
    )
    return Signer(BasicCredentials(AK, SK)).sign(request).header_params["Authorization"]


def ours(method: str, path: str, query: Pairs, headers: dict[str, str], body: str = "") -> str:
    return sign_request(method, url_of(path, query), headers, AK, SK, WHEN, body.encode())["Authorization"]


REPORT = "/v2/0123456789abcdef0123456789abcdef/notifications/sms/report"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        # ListSmsMsgReport as HuaweiClient sends it (keys sorted) and unsorted.
        (
            REPORT,
            [("end_time", "1504146012000"), ("limit", "100"), ("offset", "0"), ("sign_id", "abc"), ("start_time", "1")],
        ),
        (REPORT, [("start_time", "1"), ("sign_id", "abc"), ("offset", "200"), ("limit", "100"), ("end_time", "2")]),
        # The docs' request example, masked mobile and all.
        (REPORT, [("status", "1"), ("message_id", "ce7f2f73"), ("mobile", "134****6789"), ("sign_id", "*******")]),
        # Characters that must be percent-encoded, and the ones that must not (~ - _ .).
        (REPORT, [("sign_id", "a b+c/d?e=f&g"), ("mobile", "+86 134-5678_9.0~"), ("x", "é中文%")]),
        # Repeated keys sort by value; empty values; keys whose encoding sorts differently from the text.
        (REPORT, [("k", "b"), ("k", "a"), ("empty", ""), ("a{", "1"), ("aZ", "2")]),
        # No query at all; a path segment that needs encoding; no trailing slash either way.
        (REPORT, []),
        ("/v2/project%20id/notifications/sms/report/", [("sign_id", "s")]),
        ("/", [("a", "1")]),
    ],
)
def test_authorization_equals_the_official_signers(path: str, query: Pairs) -> None:
    headers = {"Content-Type": "application/json"}
    assert ours("GET", path, query, headers) == official("GET", path, query, headers)


def test_a_body_and_extra_headers_are_signed_like_the_official_signer() -> None:
    headers = {"Content-Type": "application/json;charset=UTF-8", "X-Project-Id": "  p1  ", "X-Custom": "v"}
    body = '{"message": "hello", "subject": "test"}'
    assert ours("POST", "/v2/p1/notifications/topics", [], headers, body) == official(
        "POST", "/v2/p1/notifications/topics", [], headers, body
    )


def test_headers_with_an_underscore_are_not_signed_by_either() -> None:
    headers = {"Content-Type": "application/json", "X_Not_Signed": "x"}
    signed = ours("GET", REPORT, [("a", "1")], headers)
    assert "x_not_signed" not in signed
    assert signed == official("GET", REPORT, [("a", "1")], headers)


def test_the_canonical_request_has_the_documented_shape() -> None:
    url = f"https://{HOST}{REPORT}?start_time=1&sign_id=a%20b"
    text, names = canonical_request("GET", url, {"Host": HOST, "X-Sdk-Date": "20261125T110203Z"})
    method, uri, query, host_line, date_line, blank, signed, payload = text.split("\n")
    assert (method, uri, query) == ("GET", REPORT + "/", "sign_id=a%20b&start_time=1")
    assert (host_line, date_line, blank) == (f"host:{HOST}", "x-sdk-date:20261125T110203Z", "")
    assert signed == names == "host;x-sdk-date"
    assert payload == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_a_change_in_the_query_changes_the_signature() -> None:
    headers = {"Content-Type": "application/json"}
    assert ours("GET", REPORT, [("offset", "0")], headers) != ours("GET", REPORT, [("offset", "100")], headers)


# Any text but surrogates; short, so failures shrink to something readable.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
SEGMENT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/%"), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(
    segments=st.lists(SEGMENT, min_size=1, max_size=4),
    query=st.lists(st.tuples(TEXT, TEXT), max_size=6),
    trailing_slash=st.booleans(),
)
def test_any_path_and_query_sign_like_the_official_signer(
    segments: list[str], query: Pairs, trailing_slash: bool
) -> None:
    path = "/" + "/".join(_encode(segment) for segment in segments) + ("/" if trailing_slash else "")
    headers = {"Content-Type": "application/json"}
    assert ours("GET", path, query, headers) == official("GET", path, query, headers)
