"""Fixtures of the integration tests: a fresh table on moto server, a function's handler loaded as Lambda would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dlrhub_local.gateway import load_handler
from dlrhub_local.template import Template
from tests.support import TEMPLATE, create_table, put_sample_accounts, unique_name

Handler = Callable[[dict, Any], dict]


@pytest.fixture
def table(moto_server: Any) -> str:
    return create_table(moto_server.endpoint)


@pytest.fixture
def load_function(moto_server: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Handler]:
    """``load_function(logical_id, **env)``: the template function's handler, its AWS calls on moto server."""

    def load(logical_id: str, **env: str) -> Handler:
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
        monkeypatch.setenv("TABLE_NAME", table)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return load_handler(Template(TEMPLATE).functions()[logical_id])

    return load


@pytest.fixture
def api_handler(load_function: Callable[..., Handler]) -> Handler:
    return load_function("ApiFunction")


@pytest.fixture
def webhook_handler(moto_server: Any, load_function: Callable[..., Handler]) -> Handler:
    """The webhook function, with every provider's sample account (the sample events' secrets)."""
    prefix = unique_name("handler")
    put_sample_accounts(moto_server.endpoint, prefix)
    return load_function("WebhookFunction", SECRETS_PREFIX=prefix)
