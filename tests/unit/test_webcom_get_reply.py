"""Webcom's ``sendsms.php`` status reply, whose format the docs do not show: what is taken, what is refused."""

from __future__ import annotations

import pytest

from dlrhub.adapters.http import ProviderError
from dlrhub.providers.webcom import STATES, parse_get_reply

TIME = "2021-04-26 15:15:03"


@pytest.mark.parametrize(
    ("text", "state", "time"),
    [
        ('{"state":"deliver","time":"2021-04-26 15:15:03"}', "deliver", TIME),
        ('  {"state": "read", "time": "2021-04-26 15:15:03", "id_sms": 82216}\n', "read", TIME),
        ('[{"state":"not_deliver","time":"2021-04-26 15:15:03"}]', "not_deliver", TIME),
        ('{"state":"send","time":""}', "send", ""),
        ("state=deliver&time=2021-04-26 15:15:03", "deliver", TIME),
        ("state=deliver&time=2021-04-26+15%3A15%3A03", "deliver", TIME),  # form-encoded
        ("state=expired;time=2021-04-26 15:15:03", "expired", TIME),
        ("state=deliver\r\ntime=2021-04-26 15:15:03\r\n", "deliver", TIME),
        ("time=2021-04-26 15:15:03&state=read", "read", TIME),
        ("state=send&time=", "send", ""),
        ("state=partly_deliver", "partly_deliver", ""),
        ("deliver", "deliver", ""),
        ("  expired\n", "expired", ""),
    ],
)
def test_accepted_shapes(text: str, state: str, time: str) -> None:
    reply = parse_get_reply(text)
    assert reply["state"] == state
    assert reply.get("time", "") == time


@pytest.mark.parametrize("state", sorted(STATES))
def test_every_documented_word_is_taken_bare_and_as_json(state: str) -> None:
    assert parse_get_reply(state)["state"] == state
    assert parse_get_reply(f'{{"state": "{state}"}}')["state"] == state


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "<html><body>Service temporarily unavailable</body></html>",
        '{"state":"deliver"',  # cut short
        '{"error":"Incorrect login or password"}',
        '{"state":"delivered"}',  # not a documented word
        '{"state": 1}',
        '[{"state":"deliver"},{"state":"read"}]',  # two answers for one id
        "[]",
        '"deliver"',
        "state=unknown&time=",
        "delivered",
        "deliver read",
        "ERROR: Incorrect login or password",
    ],
)
def test_anything_else_is_an_error_never_a_status(text: str) -> None:
    with pytest.raises(ProviderError) as raised:
        parse_get_reply(text)
    assert raised.value.retryable
