"""The local stack's console: the functions' Powertools lines told in words, one line per event."""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Logger

from dlrhub_local import console

TIME = r"\d\d:\d\d:\d\d  "


def test_a_duplicate_and_an_outranked_report_are_told_as_such() -> None:
    fields = {"provider": "infin8linx", "account": "demo", "message_id": "557", "raw_status": "2"}
    same = {"level": "DEBUG", "message": "report ignored", **fields, "status": "FAILED", "stored_status": "FAILED"}
    assert re.fullmatch(
        TIME + r"duplicate   infin8linx/demo 557 FAILED \(raw '2', webhook\): already FAILED, nothing changed",
        console.words(same, "webhook") or "",
    )
    late = {**same, "status": "PENDING", "raw_status": "0", "stored_status": "DELIVERED"}
    assert (console.words(late, "webhook") or "").endswith(
        "ignored     infin8linx/demo 557 PENDING (raw '0', webhook):"
        " the stored DELIVERED stands (a final status is kept)"
    )


def test_a_refusal_names_the_function_the_route_without_its_secret_and_the_reason() -> None:
    path = console.shown_path(
        "/webhooks/{provider}/{account}/{secret}", {"provider": "x", "account": "a", "secret": "s3"}
    )
    assert path == "/webhooks/x/a/…"
    line = console.refused_line("webhook", "GET", path, 400, b"state must be 0, 1 or 2")
    assert line.endswith("refused     webhook GET /webhooks/x/a/…: 400 state must be 0, 1 or 2")
    assert "s3" not in line
    failed = console.refused_line("api", "GET", "/stats", 503, b'{"message":"temporarily unavailable"}')
    assert failed.endswith("failed      api GET /stats: 503 temporarily unavailable")
    unknown = console.refused_line("api", "GET", "/messages/x/a/1", 404, b'{"message":"no such message"}')
    assert unknown.endswith("not found   api GET /messages/x/a/1: 404 no such message")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"unknown account or wrong secret", "unknown account or wrong secret"),
        (b'{"message": "invalid request: from: required"}', "invalid request: from: required"),
        (
            b'{"registered": 1, "rejected": 2, "errors": [{"index": 1, "reason": "destination: required"},'
            b' {"index": 2, "reason": "x"}]}',
            "item 1: destination: required (and 1 more)",
        ),
        (b"", "(no reason given)"),
    ],
)
def test_the_reason_comes_from_the_body_as_the_caller_got_it(body: bytes, reason: str) -> None:
    assert console.reason_of(body) == reason


def test_refusals_the_gateway_tells_are_not_told_twice() -> None:
    """The gateway's line carries the status; the webhook's own warning would only repeat it."""
    refused = {"level": "WARNING", "message": "callback rejected", "provider": "x", "reason": "bad"}
    assert console.words(refused, "webhook") is None
    assert "callback rejected (x): reason bad" in (console.words(refused, "webhook", behind_gateway=False) or "")


def test_a_rejected_item_of_a_call_names_the_item_and_why() -> None:
    log = {"level": "WARNING", "message": "callback item rejected", "provider": "webcom", "account": "demo"}
    line = console.words(
        {**log, "index": 3, "ref": "4104", "reason": "time is not like 2021-04-26 15:15:03"}, "webhook"
    )
    assert (line or "").endswith("rejected    webhook webcom/demo item 3 (4104): time is not like 2021-04-26 15:15:03")


def test_other_warnings_name_the_function_and_their_fields_and_info_only_when_verbose() -> None:
    log = {
        "level": "ERROR",
        "message": "status query failed",
        "provider": "infin8linx",
        "account": "demo",
        "error": "HTTP 503",
        "service": "dlrhub-local",
        "timestamp": "…",
        "location": "x:1",
        "exception_name": "ProviderError",
    }
    line = console.words(log, "poller") or ""
    assert line.endswith("error       poller: status query failed (infin8linx/demo): error HTTP 503 [ProviderError]")
    info = {"level": "INFO", "message": "poll finished", "provider": "huawei", "account": "demo", "stored": 2}
    assert console.words(info, "poller") is None
    assert (console.words(info, "poller", verbose=True) or "").endswith(
        "info        poller: poll finished (huawei/demo): stored 2"
    )
    assert console.words({"level": "DEBUG", "message": "report applied"}, "webhook") is None


@pytest.fixture
def service_logger() -> Iterator[tuple[str, list[str]]]:
    """A Powertools logger of a service of its own, told in words into ``lines``."""
    service = f"console-test-{uuid.uuid4().hex[:8]}"
    lines: list[str] = []
    Logger(service=service, level="DEBUG")
    assert console.attach(service, lines.append, {"WebhookFunction": "webhook"}, verbose=False)
    yield service, lines
    logging.getLogger(service).handlers.clear()


def test_the_functions_logger_is_told_in_words_naming_the_function_that_logged(
    service_logger: tuple[str, list[str]],
) -> None:
    service, lines = service_logger
    logger = Logger(service=service)
    with console.invoking("WebhookFunction"):
        logger.debug("report applied", provider="infin8linx", account="demo", message_id="1")  # the stream tells it
        logger.debug("report ignored", provider="infin8linx", account="demo", message_id="1", status="SENT",
                     raw_status="sent", stored_status="SENT")  # fmt: skip
        logger.info("poll finished")  # not verbose
        logger.warning("status query failed", provider="infin8linx", account="demo", error="HTTP 503")
    assert [line[10:] for line in lines] == [
        "duplicate   infin8linx/demo 1 SENT (raw 'sent', webhook): already SENT, nothing changed",
        "warning     webhook: status query failed (infin8linx/demo): error HTTP 503",
    ]
    assert not any(line.lstrip().startswith("{") for line in lines)


def test_a_worker_thread_of_a_service_module_is_named_by_its_module(service_logger: tuple[str, list[str]]) -> None:
    """Outside an invocation's thread (a function's own worker threads) the service module names it."""
    service, lines = service_logger
    child = logging.getLogger(f"{service}.dlrhub.services.webhook")
    child.setLevel(logging.WARNING)
    thread = threading.Thread(target=lambda: child.warning("report not stored"))
    thread.start()
    thread.join()
    assert [line[10:] for line in lines] == ["warning     webhook: report not stored"]


def test_a_line_that_is_not_json_is_printed_as_it_is() -> None:
    lines: list[str] = []
    stream = console.ConsoleStream(lines.append)
    stream.write("plain words\n" + json.dumps({"level": "WARNING", "message": "m", "local_function": "stream"}) + "\n")
    assert lines[0] == "plain words"
    assert lines[1].endswith("warning     stream: m")
