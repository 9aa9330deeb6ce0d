"""The local stack's wiring: each AWS client at its service, the config's URLs kept, the CLI's choices."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from dlrhub_local.__main__ import parser, poll_accounts
from dlrhub_local.processes import Server
from dlrhub_local.services import Services
from dlrhub_local.stack import store_secrets

MOTO, DYNAMODB_LOCAL = "http://127.0.0.1:1111", "http://127.0.0.1:2222"


def services(table_on_dynamodb_local: bool) -> Services:
    moto = Server("moto", None, 1111)  # type: ignore[arg-type] # no process: only the endpoints are read
    local = Server("dynamodb-local", None, 2222) if table_on_dynamodb_local else None  # type: ignore[arg-type]
    return Services(moto, local)


@pytest.mark.parametrize("on_local", [True, False])
def test_every_client_of_the_stack_goes_to_its_service(monkeypatch: pytest.MonkeyPatch, on_local: bool) -> None:
    """botocore's per-service endpoint variables, as this botocore reads them."""
    for key, value in services(on_local).environment().items():
        monkeypatch.setenv(key, value)
    session = boto3.session.Session()
    table = DYNAMODB_LOCAL if on_local else MOTO
    assert session.client("dynamodb").meta.endpoint_url == table
    assert session.client("dynamodbstreams").meta.endpoint_url == table
    assert session.client("secretsmanager").meta.endpoint_url == MOTO
    assert session.client("events").meta.endpoint_url == MOTO
    assert session.client("sts").meta.endpoint_url == MOTO  # anything else: moto, never AWS


def test_the_banner_says_where_the_table_is() -> None:
    assert (services(True).engine, services(True).storage) == ("DynamoDB Local", "in memory")
    assert (services(False).engine, services(False).storage) == ("moto server", "approximate, in memory")


class Secrets:
    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}

    def create_secret(self, Name: str, SecretString: str) -> None:
        self.stored[Name] = json.loads(SecretString)


def test_a_url_in_the_config_is_kept_and_the_simulators_fill_only_what_is_missing() -> None:
    config = {
        "accounts": {
            "infin8linx/demo": {"webhook_secret": "s1", "base_url": "http://127.0.0.1:9/mine"},
            "huawei/demo": {"webhook_secret": "s2"},
        }
    }
    overrides = {
        "infin8linx/demo": {"base_url": "http://127.0.0.1:7/simulator"},
        "huawei/demo": {"endpoint": "http://127.0.0.1:8/simulator"},
    }
    secrets = Secrets()
    store_secrets(config, "dlrhub", secrets, overrides)
    assert secrets.stored["dlrhub/infin8linx/demo"]["base_url"] == "http://127.0.0.1:9/mine"
    assert secrets.stored["dlrhub/huawei/demo"]["endpoint"] == "http://127.0.0.1:8/simulator"


def test_poll_accounts_are_chosen_from_the_config() -> None:
    accounts = {"infin8linx/demo": {}, "huawei/demo": {}, "webcom/demo": {}}
    assert poll_accounts(None, accounts) is None  # every account
    assert poll_accounts("infin8linx/demo, huawei/demo", accounts) == ["infin8linx/demo", "huawei/demo"]
    assert poll_accounts("", accounts) == []
    with pytest.raises(ValueError, match="not in the config: webcom/other"):
        poll_accounts("webcom/other", accounts)


def test_the_cli_takes_the_deployed_stacks_settings() -> None:
    args = parser().parse_args(
        ["--poll-accounts", "infin8linx/demo", "--monitor-window", "10", "--monitor-lag", "0", "--data-dir", "d"]
    )
    assert (args.poll_accounts, args.monitor_window, args.monitor_lag, str(args.data_dir)) == (
        "infin8linx/demo",
        10,
        0,
        "d",
    )
    defaults = parser().parse_args([])
    assert (defaults.monitor_window, defaults.monitor_lag, defaults.dynamodb) == (5, 1, "local")
