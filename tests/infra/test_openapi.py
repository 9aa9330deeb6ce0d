"""docs/openapi.json is the document the API's routes generate: regenerate it with `make openapi`."""

from __future__ import annotations

import difflib
import json

from dlrhub_local.openapi import DOCUMENT, generate
from dlrhub_local.template import Template
from tests.support import TEMPLATE


def test_committed_openapi_document_is_up_to_date() -> None:
    generated, committed = generate(), DOCUMENT.read_text()
    if generated != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), "docs/openapi.json", "generated", lineterm="", n=1
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(f"docs/openapi.json is out of date with the API's routes: run `make openapi`\n{shown}")


def test_openapi_document_lists_every_api_route() -> None:
    paths = json.loads(generate())["paths"]
    documented = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    routes = {(r.method, r.path) for r in Template(TEMPLATE).http_routes() if r.function == "ApiFunction"}
    assert routes == documented
