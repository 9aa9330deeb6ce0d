"""The page in a real headless Chromium, served by the local gateway with its feed, and a
``GET /scorecard`` route answering a document of the API contract's shape (no stack needed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from dlrhub_local.feed import Change, Feed, feed_entry
from dlrhub_local.gateway import Gateway
from dlrhub_local.page import Pages
from dlrhub_local.processes import LOOPBACK
from dlrhub_local.template import Route
from tests.page.figures import mismatches, page_marks, rate_text, wait_for_scorecard
from tests.page.samples import scorecard_document


@dataclass
class Scorecard:
    """The /scorecard route: answers ``reply``, keeps each query it was asked."""

    reply: tuple[int, dict[str, Any]]
    asked: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.asked.append(event.get("queryStringParameters") or {})
        status, body = self.reply
        return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@dataclass
class Served:
    url: str
    feed: Feed
    scorecard: Scorecard


@pytest.fixture
def served() -> Iterator[Served]:
    feed = Feed()
    scorecard = Scorecard((200, scorecard_document()))
    pages = Pages(feed, stream_seconds=2.0, heartbeat_seconds=0.5)
    gateway = Gateway([Route("GET", "/scorecard", "Scorecard")], {"Scorecard": scorecard}, local_pages=pages.serve)
    server = gateway.serve(LOOPBACK, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Served(f"http://{LOOPBACK}:{server.server_address[1]}", feed, scorecard)
    finally:
        feed.close()
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    opened = browser.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield opened
    opened.close()
    # no script error, nothing the CSP refused (a reply's 4xx is logged too: the test says what it expects of it)
    assert [error for error in errors if not error.startswith("Failed to load resource")] == []


def loaded(page: Page, served: Served, after: int = 0) -> None:
    """Wait for the page to have drawn a scorecard read after ``after`` reads."""
    wait_for_scorecard(page, after)


def registered(message_id: str, status: str = "DELIVERED") -> dict[str, Any]:
    value = {
        "provider": "infin8linx",
        "account": "demo",
        "message_id": message_id,
        "status": status,
        "raw_status": "1",
        "source": "webhook",
        "destination": "628131565746",
        "country": "ID",
    }
    return feed_entry(Change("stored", value), datetime.fromisoformat("2026-11-25T10:41:23+00:00"))


def test_the_charts_and_the_figures_are_the_documents(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    loaded(page, served)
    doc = scorecard_document()
    assert mismatches(doc, page_marks(page)) == []
    countries = page.locator("article.country").evaluate_all("cards => cards.map((c) => c.dataset.country)")
    assert countries == ["ID", "NG", "ZZ"]  # the busiest first, the unknown country last
    assert page.locator("article[data-country=ID] h3").inner_text().startswith("Indonesia")
    # 1 of 16: 6.25 %, where JavaScript's toFixed and Python's round differ; the page shows 6.3 %.
    assert rate_text(1 / 16) == "6.3 %"
    vonage = page.locator("tr[data-row='vonage/demo/ID'] td[data-field=delivery_rate]")
    expect(vonage).to_have_text("6.3 %")
    # the window asked: the last 24 whole hours
    (query,) = served.scorecard.asked
    start, end = (datetime.fromisoformat(query[k].replace("Z", "+00:00")) for k in ("from", "to"))
    assert (end - start).total_seconds() == 24 * 3600
    assert end.minute == end.second == 0
    assert set(query) == {"from", "to"}


def test_filters_go_to_the_api(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    loaded(page, served)
    page.select_option("select[name=country]", "NG")
    loaded(page, served, 1)
    page.select_option("select[name=hours]", "1")
    loaded(page, served, 2)
    assert served.scorecard.asked[-1]["country"] == "NG"
    assert served.scorecard.asked[-2]["country"] == "NG"
    last = served.scorecard.asked[-1]
    hours = (datetime.fromisoformat(last["to"][:-1]) - datetime.fromisoformat(last["from"][:-1])).total_seconds()
    assert hours == 3600


def test_an_api_error_is_shown_with_its_reason(page: Page, served: Served) -> None:
    served.scorecard.reply = (400, {"message": "from must be before to"})
    page.goto(served.url + "/")
    expect(page.locator("#scorecard-status")).to_have_text("GET /scorecard answered 400: from must be before to")
    assert page.locator("article.country").count() == 0


def test_a_report_appears_live_and_the_scorecard_is_read_again(page: Page, served: Served) -> None:
    served.feed.publish(registered("before-the-page"))  # kept: a page opened later shows it
    page.goto(served.url + "/")
    loaded(page, served)
    expect(page.locator("#live-state")).to_have_text("live")
    expect(page.locator("tr[data-message-id=before-the-page]")).to_have_count(1)
    reads = len(served.scorecard.asked)
    served.feed.publish(registered("36160109669"))
    row = page.locator("tr[data-message-id='36160109669']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("DELIVERED")
    expect(row.locator(".to")).to_contain_text("6281******46")
    expect(row.locator(".country-code")).to_have_text("ID")
    assert "628131565746" not in page.content()  # only the masked number ever reaches the page
    loaded(page, served, reads)  # a report makes the page read the scorecard again, soon


def test_the_feed_resumes_after_the_server_ends_a_connection(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    loaded(page, served)
    served.feed.publish(registered("first"))
    expect(page.locator("tr[data-message-id=first]")).to_have_count(1)
    page.wait_for_timeout(2500)  # the server ends each connection after 2 s here; the browser reconnects
    served.feed.publish(registered("second", "FAILED"))
    expect(page.locator("tr[data-message-id=second]")).to_have_count(1)
    expect(page.locator("tr[data-message-id=second] .badge")).to_have_class("badge bad")
    assert page.locator("#feed tr").count() == 2  # nothing shown twice
