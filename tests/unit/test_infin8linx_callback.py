from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dlrhub.domain.inputs import InvalidInput, WebhookRequest
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.providers.contract import WebhookCredentials
from dlrhub.providers.infin8linx import PROVIDER

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


CONFIG = WebhookCredentials(webhook_secret="s" * 16)


def parse(query: str) -> list[StatusReport]:
    return PROVIDER.webhook.parse(WebhookRequest("GET", query), "demo", CONFIG, NOW).reports  # type: ignore[union-attr]


@pytest.mark.parametrize(("state", "status"), [("0", Status.PENDING), ("1", Status.DELIVERED), ("2", Status.FAILED)])
def test_the_documented_example_and_every_state(state: str, status: Status) -> None:
    [report] = parse(f"msgid=36160109669&das=628131565746&state={state}")
    assert report.message_id == "36160109669"
    assert report.destination == "628131565746"
    assert report.status is status
    assert report.raw_status == state
    assert report.source is Source.WEBHOOK
    assert report.received_at == NOW
    assert report.provider_time is None  # Infin8linx sends no time


def test_das_is_optional() -> None:
    [report] = parse("msgid=1&state=1")
    assert report.destination is None


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("das=1&state=1", "msgid is missing"),
        ("msgid=&state=1", "msgid must be"),
        ("msgid=1", "state is missing"),
        ("msgid=1&state=3", "state must be 0, 1 or 2"),
        ("msgid=1&state=DELIVRD", "state must be 0, 1 or 2"),
        ("msgid=1&state=1&state=2", "state is given more than once"),
        ("msgid=1&msgid=2&state=1", "msgid is given more than once"),
        ("msgid=" + "9" * 65 + "&state=1", "msgid must be"),
        ("msgid=1&state=1&das=" + "9" * 33, "das must be"),
        ("msgid=1&state=1&das=abc", "das must be"),
        ("msgid=1&state=1&x=" + "y" * 1100, "query string longer than 1024"),
        ("msgid=a%2Fb&state=1", "msgid must be"),
    ],
)
def test_malformed_callbacks_say_why(query: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse(query)
