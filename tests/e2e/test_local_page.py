"""The local stack's page in a real headless Chromium: reports sent over HTTP appear live, and the
charts' figures are GET /scorecard's. Leaves a screenshot in docs/scorecard.png (the README's)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from dlrhub_local.simulators.awseum import put_event
from dlrhub_local.simulators.innopaas import InnoPaaSReport
from dlrhub_local.simulators.twilio import callback_params
from dlrhub_local.simulators.twilio import sign as twilio_sign
from dlrhub_local.simulators.vonage import receipt
from tests.page.figures import mismatches, page_marks, scorecard_reads, wait_for_scorecard
from tests.stack_process import StackProcess, local_stack
from tests.support import DUMMY_AWS, ROOT

pytestmark = pytest.mark.slow

SCREENSHOT = ROOT / "docs" / "scorecard.png"


@dataclass(frozen=True)
class Sent:
    """A message the test registers, and the report it then sends (None: no report, it stays pending)."""

    provider: str
    message_id: str
    destination: str
    country: str
    report: str | None


def message_id_for(provider: str, rng: random.Random) -> str:
    """An id of the provider's own form (registration checks it)."""
    bits = uuid.UUID(int=rng.getrandbits(128))
    return {
        "infin8linx": str(rng.randrange(10**10, 10**11)),
        "vonage": bits.hex[:16].upper(),
        "twilio": "SM" + bits.hex,
        "innopaas": str(rng.randrange(10**17, 10**18)),
    }.get(provider, str(bits))


def traffic() -> list[Sent]:
    """Four providers, three countries, every outcome: what a team comparing providers would see."""
    plan = [
        ("infin8linx", "62812", "ID", ["1"] * 11 + ["2"] * 2 + [None]),
        ("twilio", "+62813", "ID", ["delivered"] * 7 + ["undelivered"] * 2 + ["sent"]),
        ("twilio", "+1206", "US", ["delivered"] * 8 + ["undelivered"]),
        ("awseum", "+1206", "US", ["TEXT_DELIVERED"] * 5),
        ("innopaas", "86138", "CN", ["DELIVRD"] * 6 + ["UNDELIV"] * 2 + ["REJECTD"]),
        ("vonage", "447700", "GB", ["delivered"] * 7 + ["expired"]),
    ]
    rng = random.Random(7)
    sent = []
    for provider, prefix, country, reports in plan:
        for report in reports:
            digits = "".join(rng.choice("0123456789") for _ in range(12 - len(prefix.lstrip("+"))))
            message_id = message_id_for(provider, rng)
            sent.append(Sent(provider, message_id, prefix + digits, country, report))
    return sent


def register(stack: StackProcess, messages: list[Sent]) -> None:
    """One registration, submitted up to 40 minutes ago: the receipts' latencies spread over the buckets."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    body = {
        "messages": [
            {
                "provider": m.provider,
                "account": "demo",
                "message_id": m.message_id,
                "destination": m.destination,
                "submitted_at": (
                    now - timedelta(seconds=rng.choice([2, 8, 20, 45, 100, 250, 500, 1500, 2400]))
                ).isoformat(),
                "customer_ref": "e2e-page",
            }
            for m in messages
        ]
    }
    reply = requests.post(f"{stack.url}/messages", json=body, timeout=30)
    assert reply.status_code == 200, reply.text


def report(stack: StackProcess, message: Sent, events: Any) -> None:
    """The provider's report, as the provider sends it: a real HTTP callback (an event on the bus for AWS)."""
    assert message.report is not None
    if message.provider == "infin8linx":
        params = {"msgid": message.message_id, "das": message.destination, "state": message.report}
        reply = requests.get(stack.webhook_url("infin8linx"), params=params, timeout=10)
    elif message.provider == "vonage":
        signed = receipt(message.message_id, message.destination, message.report, stack.account("vonage"))
        reply = requests.post(stack.webhook_url("vonage"), json=signed, timeout=10)
    elif message.provider == "innopaas":
        keys = stack.account("innopaas")
        pushed = InnoPaaSReport(message.message_id, message.report, message.destination, time.time(), time.time())
        body = pushed.pushed(str(keys.get("receiver", "")), str(keys.get("pswd", "")))
        reply = requests.post(stack.webhook_url("innopaas"), json=body, timeout=10)
    elif message.provider == "twilio":
        url = stack.webhook_url("twilio")
        params = callback_params(message.message_id, message.report, message.destination)
        signature = twilio_sign(url, params, stack.account("twilio")["auth_token"])
        reply = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    else:
        assert put_event(events, message.message_id, message.report)
        return
    assert reply.status_code == 200, reply.text


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    config = Path(tmp_path_factory.mktemp("page")) / "local.json"
    with local_stack(config, "--no-demo", "--poll-every", "0", "--report-every", "0") as running:
        yield running


@pytest.fixture(scope="module")
def page(stack: StackProcess, browser: BrowserContext) -> Iterator[Page]:
    opened = browser.new_page()
    opened.goto(stack.url + "/")
    expect(opened.locator("#live-state")).to_have_text("live")
    yield opened
    opened.close()


def scorecard(stack: StackProcess, query: str) -> dict[str, Any]:
    reply = requests.get(f"{stack.url}/scorecard?{query}", timeout=10)
    assert reply.status_code == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def settled(stack: StackProcess, query: str, messages: list[Sent], timeout: float = 90.0) -> dict[str, Any]:
    """The scorecard once it counts every message sent and every report (the stream function counts
    them a moment after they are stored)."""
    reports = sum(m.report not in (None, "sent") for m in messages)
    deadline = time.monotonic() + timeout
    while True:
        document = scorecard(stack, query)
        rows = document["rows"]
        finals = sum(row["delivered"] + row["failed"] + row["unknown"] for row in rows)
        if sum(row["submitted"] for row in rows) == len(messages) and finals == reports:
            return document
        if time.monotonic() > deadline:
            raise AssertionError(f"the scorecard did not count {len(messages)} messages, {reports} finals: {rows}")
        time.sleep(0.3)


def test_reports_appear_live_and_the_charts_are_the_apis(stack: StackProcess, page: Page) -> None:
    messages = traffic()
    register(stack, messages)
    events = boto3.client("events", endpoint_url=stack.moto, region_name=DUMMY_AWS["AWS_REGION"])
    first, *others = [m for m in messages if m.report is not None]

    report(stack, first, events)  # one report, then the page must show it arrive
    arrived = page.locator(f"#feed tr[data-message-id='{first.message_id}'][data-kind=stored]")
    expect(arrived).to_have_count(1, timeout=15_000)
    expect(arrived).to_contain_text("DELIVERED")
    assert first.destination not in page.content()  # masked on the page, as on the console

    for message in others:
        report(stack, message, events)
    query = page.locator(".scorecard").get_attribute("data-query") or ""
    api = settled(stack, query, messages)

    reads = scorecard_reads(page)
    page.click("#refresh")
    wait_for_scorecard(page, reads)
    assert page.locator(".scorecard").get_attribute("data-query") == query  # the same window: nothing moved on
    assert scorecard(stack, query) == api  # no traffic since: the page drew this very document
    assert mismatches(api, page_marks(page)) == []

    # what was sent, independently of the page and of the API's own tests
    by_row = {(row["provider"], row["country"]): row for row in api["rows"]}
    for provider, country in {(m.provider, m.country) for m in messages}:
        ours = [m for m in messages if (m.provider, m.country) == (provider, country)]
        assert by_row[provider, country]["submitted"] == len(ours), (provider, country, api["rows"])
    assert by_row["infin8linx", "ID"]["delivered"] == 11
    assert by_row["infin8linx", "ID"]["failed"] == 2
    assert by_row["infin8linx", "ID"]["pending"] == 1
    countries = page.locator("article.country").evaluate_all("cards => cards.map((c) => c.dataset.country)")
    assert sorted(countries) == ["CN", "GB", "ID", "US"]

    page.wait_for_timeout(1700)  # the newest feed rows' highlight fades
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000
