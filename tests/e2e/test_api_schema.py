"""The customer API over real HTTP against its own OpenAPI document (docs/openapi.json), with schemathesis.

Every operation gets generated requests, valid and invalid; every reply must be no server error and
match the document: a declared status code, the declared content type, the declared body schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dlrhub_local.openapi import DOCUMENT
from tests.api_support import SCHEMA_REQUESTS, registration_item
from tests.stack_process import StackProcess, local_stack
from tests.support import innopaas_seed_example

pytestmark = pytest.mark.slow

#: Ids of this module's own messages (the stack's demo traffic uses others).
SENT, CHARGED = "36160190001", "627239445736490001"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 50


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    with local_stack(tmp_path_factory.mktemp("schema") / "local.json") as running:
        yield running


@pytest.fixture(scope="module")
def http(stack: StackProcess, request: pytest.FixtureRequest) -> Iterator[requests.Session]:
    """The session every call goes through; it counts the requests (shown in the terminal summary)."""
    stash = request.config.stash
    stash[SCHEMA_REQUESTS] = stash.get(SCHEMA_REQUESTS, 0)

    def count(response: requests.Response, *_: Any, **__: Any) -> None:
        stash[SCHEMA_REQUESTS] += 1

    session = requests.Session()
    session.hooks["response"].append(count)
    yield session
    session.close()


# Loaded when the module is: the document is a committed file. (schemathesis.pytest.from_fixture, which
# would load it from a fixture, fails on pytest 9: it sets the removed Node._nodeid.) The stack's URL
# is known only once it runs, so each call gets it as base_url.
schema = schemathesis.openapi.from_path(DOCUMENT)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_document(
    case: schemathesis.Case, stack: StackProcess, http: requests.Session
) -> None:
    case.call_and_validate(base_url=stack.url, session=http, checks=CHECKS)


def test_replies_about_real_messages_conform(stack: StackProcess, http: requests.Session) -> None:
    """Generated ids rarely hit a stored message: these calls read real ones, reports, cost and all."""
    items = [
        registration_item(SENT, minute=37, customer_ref="conform-1", parts=1),
        registration_item(CHARGED, provider="innopaas", customer_ref="conform-1"),
    ]
    assert http.post(f"{stack.url}/messages", json={"messages": items}, timeout=10).status_code == 200
    callback = {"msgid": SENT, "das": "628131565746", "state": "1"}
    assert http.get(stack.webhook_url("infin8linx"), params=callback, timeout=10).text == "OK"
    innopaas = stack.account("innopaas")
    push = innopaas_seed_example(
        receiver=innopaas["receiver"], pswd=innopaas["pswd"], msgid=CHARGED, reportTime="1795604400000"
    )
    assert http.post(stack.webhook_url("innopaas"), json=push, timeout=10).status_code == 200

    delivered = call(stack, http, "/messages/{provider}/{account}/{message_id}", path=_key("infin8linx", SENT))
    assert (delivered["status"], delivered["raw_status"], len(delivered["history"])) == ("DELIVERED", "1", 1)
    charged = call(stack, http, "/messages/{provider}/{account}/{message_id}", path=_key("innopaas", CHARGED))
    assert charged["cost"]["amount"] == "0.0567"
    listed = call(stack, http, "/refs/{customer_ref}/messages", path={"customer_ref": "conform-1"})
    assert [item["message_id"] for item in listed["items"]] == [CHARGED, SENT]  # oldest first
    first = call(stack, http, "/refs/{customer_ref}/messages", path={"customer_ref": "conform-1"}, query={"limit": 1})
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    # The stack's own demo traffic shares infin8linx/demo: the window holds the one minute this message was sent in.
    window = {"from": "2026-11-25T10:37:00Z", "to": "2026-11-25T10:38:00Z", "status": "DELIVERED"}
    by_account = call(
        stack,
        http,
        "/accounts/{provider}/{account}/messages",
        path={"provider": "infin8linx", "account": "demo"},
        query=window,
    )
    assert [item["message_id"] for item in by_account["items"]] == [SENT]


def call(
    stack: StackProcess, http: requests.Session, route: str, path: dict[str, str], query: dict[str, Any] | None = None
) -> Any:
    """GET ``route`` with these parameters, checked like the generated calls; the reply's JSON."""
    case = schema[route]["GET"].Case(path_parameters=path, query=query)
    response = case.call_and_validate(base_url=stack.url, session=http, checks=CHECKS)
    assert response.status_code == 200, response.text
    return response.json()


def _key(provider: str, message_id: str) -> dict[str, str]:
    return {"provider": provider, "account": "demo", "message_id": message_id}
