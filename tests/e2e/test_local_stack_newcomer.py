"""A newcomer's first hour with the local stack: the banner, the console's words, the customer API
as printed, an account the configuration lacks, and the API's documentation."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from dlrhub_local.api_docs import ASSETS, SWAGGER_UI
from dlrhub_local.defaults import ports_sentence
from tests.stack_process import StackProcess, local_stack
from tests.support import ROOT, missing

pytestmark = pytest.mark.slow
QUIET = ("--no-demo", "--poll-every", "0", "--report-every", "0")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    with local_stack(tmp_path_factory.mktemp("newcomer") / "local.json", *QUIET) as running:
        yield running


def printed_command(stack: StackProcess, what: str) -> str:
    """The command the banner prints under ``# what``."""
    lines = [line.strip() for line in stack.seen]
    return lines[lines.index(f"# {what}") + 1]


def run_printed(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)


def test_the_banner_says_the_readmes_sentence_about_ports_for_this_run(stack: StackProcess) -> None:
    port = stack.url.rsplit(":", 1)[1]
    assert f"  {ports_sentence(port)}\n" in stack.seen
    assert any(
        f"customer API docs: {stack.url}/docs  OpenAPI document: {stack.url}/openapi.json" in line
        for line in stack.seen
    )


def test_the_printed_customer_api_commands_work_as_printed(stack: StackProcess) -> None:
    register = printed_command(
        stack, "register a message you sent (customer API; SigV4-signed when deployed, open here)"
    )
    done = run_printed(register)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["registered"] + json.loads(done.stdout)["already_registered"] == 1, done.stdout
    stack.wait_for_line(r"registered  infin8linx/demo 36160109669 to 6281\*+46, status PENDING$")
    callback = printed_command(stack, "Infin8linx delivery callback")
    assert run_printed(callback).stdout == "OK"
    stack.wait_for_line(r"stored      infin8linx/demo 36160109669 -> DELIVERED \(raw '1', webhook\)")
    read = json.loads(run_printed(printed_command(stack, "read a message back")).stdout)
    assert (read["message_id"], read["status"], read["customer_ref"]) == ("36160109669", "DELIVERED", "order-1001")
    by_ref = json.loads(run_printed(printed_command(stack, "the messages of a customer reference")).stdout)
    assert [item["message_id"] for item in by_ref["items"]] == ["36160109669"], by_ref


def test_a_registration_for_an_account_the_config_lacks_is_stored_with_a_warning(stack: StackProcess) -> None:
    message = {
        "provider": "infin8linx",
        "account": "main",
        "message_id": "70000000001",
        "destination": "628131565746",
        "submitted_at": "2026-11-25T10:00:00Z",
    }
    reply = requests.post(f"{stack.url}/messages", json={"messages": [message]}, timeout=10)
    assert (reply.status_code, reply.json()["registered"]) == (200, 1)
    line = stack.wait_for_line(r"registered  infin8linx/main 70000000001 ")
    assert f"WARNING: infin8linx/main is not an account of {stack.config}" in line
    assert "stays PENDING; add the account there" in line
    known = dict(message, account="demo", message_id="70000000002")
    assert requests.post(f"{stack.url}/messages", json={"messages": [known]}, timeout=10).status_code == 200
    assert "WARNING" not in stack.wait_for_line(r"registered  infin8linx/demo 70000000002 ")


def test_a_duplicate_and_refusals_are_told_in_words_naming_the_function(stack: StackProcess) -> None:
    secret = stack.account("infin8linx")["webhook_secret"]
    url = f"{stack.url}/webhooks/infin8linx/demo/{secret}"
    for state in ("1", "1", "0"):
        assert requests.get(url, params={"msgid": "70000000003", "state": state}, timeout=10).status_code == 200
    assert requests.get(url, params={"msgid": "70000000004", "state": "7"}, timeout=10).status_code == 400
    wrong = f"{stack.url}/webhooks/infin8linx/demo/not-the-secret"
    assert requests.get(wrong, params={"msgid": "70000000004", "state": "1"}, timeout=10).status_code == 403
    found = stack.wait_for_lines(
        [
            r"duplicate   infin8linx/demo 70000000003 DELIVERED \(raw '1', webhook\): already DELIVERED, nothing",
            r"ignored     infin8linx/demo 70000000003 PENDING \(raw '0', webhook\): the stored DELIVERED stands",
            r"refused     webhook GET /webhooks/infin8linx/demo/…: 400 state must be 0, 1 or 2$",
            r"refused     webhook GET /webhooks/infin8linx/demo/…: 403 unknown account or wrong secret$",
        ]
    )
    ready = next(n for n, line in enumerate(stack.seen) if line.startswith("ready"))
    told = "".join(stack.seen[ready:])  # the banner prints the demo URLs, secrets and all, on purpose
    assert secret not in told
    assert "not-the-secret" not in told
    assert '"level"' not in told, "a raw Powertools line"
    assert all(re.match(r"\d\d:\d\d:\d\d  \w", line) for line in found.values())


class Links(HTMLParser):
    """The URLs a page loads (src, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_the_openapi_document_is_browsable_from_packaged_files_only(stack: StackProcess) -> None:
    if not all((SWAGGER_UI / name).is_file() for name in ASSETS):
        missing("Swagger UI is not installed (make setup installs swagger-ui-dist)")
    page = requests.get(f"{stack.url}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//", page.text), "the page names an external URL"
    assert "validatorUrl: null" in page.text  # Swagger UI's badge would call its online validator
    links = Links()
    links.feed(page.text)
    assert sorted(links.urls) == sorted(f"/docs/{name}" for name in ASSETS)
    for url in links.urls:
        served = requests.get(f"{stack.url}{url}", timeout=10)
        assert served.status_code == 200, url
        assert served.content == (SWAGGER_UI / url.removeprefix("/docs/")).read_bytes(), url
    document = requests.get(f"{stack.url}/openapi.json", timeout=10)
    assert document.json() == json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert requests.post(f"{stack.url}/docs", timeout=10).status_code == 404  # GET only, like the API's routes


def test_json_logs_prints_the_raw_lines_with_the_stacks_service_name(tmp_path: Path) -> None:
    with local_stack(tmp_path / "local.json", *QUIET, "--json-logs") as running:
        secret = running.account("infin8linx")["webhook_secret"]
        url = f"{running.url}/webhooks/infin8linx/demo/{secret}"
        assert requests.get(url, params={"msgid": "1", "state": "9"}, timeout=10).status_code == 400
        line = running.wait_for_line(r'"message":\s*"callback rejected"')
    logged = json.loads(line)
    assert (logged["level"], logged["service"], logged["reason"]) == (
        "WARNING",
        "dlrhub-local",
        "state must be 0, 1 or 2",
    )
