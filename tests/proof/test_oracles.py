"""The proof suites' own judges, checked on known answers: a judge that cannot fail proves nothing."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from dlrhub.domain.status import Status
from dlrhub.providers.registry import twilio
from dlrhub_local.gateway import Router
from dlrhub_local.template import Route
from dlrhub_measure.proof.cases import Case
from dlrhub_measure.proof.faultproxy import FaultProxy
from dlrhub_measure.proof.hostile import rebuild
from dlrhub_measure.proof.leaks import LeakScanner
from dlrhub_measure.proof.rawhttp import line_breaks_inside
from dlrhub_measure.proof.retries import Message, going_backwards
from dlrhub_measure.proof.webhook_cases import WEBHOOK_PROVIDERS, WebhookRoute

SECRET = "s3cr3t-value-0123456789abcdef"
ACCOUNTS = {
    f"{provider}/demo": {
        "webhook_secret": f"{provider}-{SECRET}",
        "auth_token": "t" * 32,
        "signature_secret": "v" * 32,
        "signature_method": "sha256",
        "receiver": "rcv",
        "pswd": "pswd-value-1234",
    }
    for provider in WEBHOOK_PROVIDERS
}


@pytest.mark.parametrize(
    ("acknowledged", "expected"),
    [
        ([(1, "0"), (2, "1")], Status.DELIVERED),
        ([(1, "2"), (2, "0"), (3, "1")], Status.FAILED),  # the first final wins
        ([(1, "1"), (2, "2")], Status.DELIVERED),
        ([], Status.PENDING),
        ([(1, "0"), (2, "0")], Status.PENDING),
    ],
)
def test_the_retries_oracle_applies_the_rules_in_the_order_acknowledged(
    acknowledged: list[tuple[float, str]], expected: Status
) -> None:
    message = Message("infin8linx", "r-1", ["0", "1"], "62877", acknowledged=acknowledged)
    assert message.expected() is expected


def test_the_retries_oracle_lets_read_follow_delivered_in_any_order() -> None:
    for order in (["deliver", "read"], ["read", "deliver"], ["send", "read", "partly_deliver", "deliver"]):
        message = Message("webcom", "5000", order, "62877", acknowledged=list(enumerate(order)))
        assert message.expected() is Status.READ


@pytest.mark.parametrize(
    ("entries", "backwards"),
    [
        ([("PENDING", "0"), ("DELIVERED", "1")], False),
        ([("DELIVERED", "deliver"), ("READ", "read")], False),
        ([("PENDING", "send"), ("PENDING", "partly_deliver")], False),
        ([("DELIVERED", "1"), ("PENDING", "0")], True),
        ([("DELIVERED", "1"), ("FAILED", "2")], True),
        ([("FAILED", "not_deliver"), ("READ", "read")], True),
        ([("READ", "read"), ("DELIVERED", "deliver")], True),
    ],
)
def test_a_history_going_backwards_is_seen(entries: list[tuple[str, str]], backwards: bool) -> None:
    assert going_backwards(entries) is backwards


def test_the_leak_scanner_finds_what_it_looks_for_and_not_more() -> None:
    scanner = LeakScanner([SECRET], ["127.0.0.1:8000"])
    scanner.add_phones(["+628131565746"])
    assert scanner.in_reply("ok") == []
    assert scanner.in_reply(f"x{SECRET}y") == ["a secret"]
    assert scanner.in_reply("to 628131565746") == ["a phone number sent"]
    assert scanner.in_reply("to 628131565746", phones=False) == []
    assert scanner.in_reply("to 6281******46") == []
    assert scanner.in_reply('Traceback (most recent call last):\n  File "x.py", line 1') != []
    assert scanner.in_reply("could not connect to http://127.0.0.1:8000/") == ["the internal endpoint 127.0.0.1:8000"]
    findings, tracebacks = scanner.in_logs([f'{{"secret": "{SECRET}"}}', "Traceback", "628131565746"])
    assert (len(findings), tracebacks) == (2, 1)
    assert SECRET not in findings[0]  # a finding does not repeat the secret


def test_cases_are_rebuilt_from_their_origin() -> None:
    route = WebhookRoute("infin8linx", "127.0.0.1:1", ACCOUNTS, 7)
    for phase in ("unauthenticated", "authenticated"):
        for index in range(50):
            case = route.case(phase, index)
            assert rebuild(case.origin, "127.0.0.1:1", ACCOUNTS, 7).data == case.data


@pytest.mark.parametrize("provider", ["infin8linx", "webcom"])
def test_unauthenticated_cases_never_carry_the_accounts_url(provider: str) -> None:
    """For the providers checked by the URL alone: the route never reads the account with its secret
    (matched and decoded as the local gateway does)."""
    route = WebhookRoute(provider, "127.0.0.1:1", ACCOUNTS, 7)
    router = Router([Route("ANY", "/webhooks/{provider}/{account}/{secret}", "W")])
    valid = {"provider": provider, "account": "demo", "secret": ACCOUNTS[f"{provider}/demo"]["webhook_secret"]}
    for index in range(2000):
        case = route.case("unauthenticated", index)
        target = case.data.split(b" ", 2)[1].decode("latin-1")
        matched = router.match("GET", urlsplit(target).path)  # an absolute-form target too
        assert matched is None or matched[1] != valid, case.origin


def test_the_proxy_tells_the_modes_a_request_lived_through() -> None:
    proxy = FaultProxy(("127.0.0.1", 9))
    start = time.monotonic()
    proxy.mode = "hang"
    proxy.mode = "pass"
    assert proxy.modes_between(start, time.monotonic()) == ["pass", "hang"]
    assert proxy.modes_between(time.monotonic() + 1, time.monotonic() + 2) == ["pass"]


def test_twilio_cases_with_bad_signatures_never_carry_a_valid_one() -> None:
    """Before: a status appended after signing was one the call already had, which the signature
    covers (each value once, as Twilio's validator does): a valid call counted as unauthenticated."""
    route = WebhookRoute("twilio", "127.0.0.1:1", ACCOUNTS, 7)
    token = ACCOUNTS["twilio/demo"]["auth_token"]
    checked = 0
    for index in range(3000):
        case = route.case("unauthenticated", index)
        if case.kind != "bad-signature-or-body-credentials":
            continue
        head, _, body = case.data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        target = lines[0].split(" ")[1]
        signatures = [line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("x-twilio-")]
        offered = ",".join(signatures)  # repeated headers reach the function joined, as API Gateway joins them
        params = parse_qsl(body.decode(), keep_blank_values=True)
        expected = twilio.compute_signature(f"http://127.0.0.1:1{target}", params, token)
        assert expected != offered, case.origin
        checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    ("data", "inside"),
    [
        (b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n", False),
        (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\na\r\nb", False),  # the body may have any
        (b"GET /a HTTP/1.1\r\nX-F: a\r\nSet-Cookie: x\r\n\r\n", False),
        (b"GET /a HTTP/1.1\r\nX-F: a\nGET /b HTTP/1.1\r\n\r\n", True),
        (b"GET /a\r HTTP/1.1\r\nHost: x\r\n\r\n", True),
    ],
)
def test_a_case_with_a_line_break_in_its_head_gets_a_connection_of_its_own(data: bytes, inside: bool) -> None:
    assert line_breaks_inside(data) is inside
    assert Case("api", "k", data, authenticated=True).fresh is inside
