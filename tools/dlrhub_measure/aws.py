"""AWS clients on loopback engines, and the tables, items and secrets a measurement sets up.

Used on both sides of :mod:`dlrhub_measure.runner`: nothing here imports the hub's code at the top.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from dlrhub_local.template import Template

REGION = "us-east-1"
#: Keys every client signs with: only loopback engines are ever called.
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}


def sign_with_dummy_keys() -> None:
    """This process's clients sign with :data:`DUMMY_CREDENTIALS` (where no keys are set)."""
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)


def client(service: str, endpoint: str, **config: Any) -> Any:
    """A client of ``service`` at ``endpoint`` (dummy keys); ``config``: botocore ``Config`` arguments."""
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, config=Config(**config), **keys)


def tree_template(tree: Path) -> Template:
    return Template(tree / "template.yaml")


def create_table(tree: Path, dynamodb: Any, prefix: str) -> str:
    """A fresh messages table, as ``tree``'s template defines it."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(**tree_template(tree).table_definition("MessagesTable", name))
    return name


def scan(dynamodb: Any, table: str, pages: int = 10_000) -> Iterator[dict[str, Any]]:
    """Every item of a (measurement's own) table, read consistently, at most ``pages`` pages."""
    args: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    for _ in range(pages):
        reply = dynamodb.scan(**args)
        yield from reply.get("Items", [])
        if "LastEvaluatedKey" not in reply:
            return
        args["ExclusiveStartKey"] = reply["LastEvaluatedKey"]


def message_items(dynamodb: Any, table: str, keys: list[tuple[str, str, str]], **read: Any) -> Iterator[dict[str, Any]]:
    """The message items of (provider, account, id) that exist (BatchGetItem, 100 a call); ``read``:
    its options (``ConsistentRead``, ``ProjectionExpression``…)."""
    from dlrhub.table.keys import message_key

    for start in range(0, len(keys), 100):
        wanted = [{k: {"S": v} for k, v in message_key(*key).items()} for key in keys[start : start + 100]]
        request: dict[str, Any] = {table: {"Keys": wanted, **read}}
        for _ in range(50):  # unprocessed keys asked again (bounded)
            reply = dynamodb.batch_get_item(RequestItems=request)
            yield from reply["Responses"].get(table, [])
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                break


def fresh_keys(tree: Path, table: str, count: int, mark: str) -> list[dict[str, Any]]:
    """``count`` keys of the table's key schema that no message has (for bare reference writes)."""
    definition = tree_template(tree).table_definition("MessagesTable", table)
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    run = uuid.uuid4().hex[:8]
    return [
        {k["AttributeName"]: {types[k["AttributeName"]]: f"{mark}#{run}#{n}"} for k in definition["KeySchema"]}
        for n in range(count)
    ]


def put_secret(endpoint: str, name: str, value: dict[str, Any]) -> None:
    client("secretsmanager", endpoint).create_secret(Name=name, SecretString=json.dumps(value))


def put_accounts(endpoint: str, prefix: str, accounts: dict[str, dict[str, Any]], account: str = "demo") -> None:
    """Each provider's account secret as ``{prefix}/{provider}/{account}``."""
    for provider, value in accounts.items():
        put_secret(endpoint, f"{prefix}/{provider}/{account}", value)


def sample_accounts() -> dict[str, dict[str, str]]:
    """provider -> the secret of its sample account (the harness's registry, read in the parent)."""
    from tests.support import PROVIDERS, sample_account

    return {provider.name: sample_account(provider) for provider in PROVIDERS if provider.webhook is not None}


def event(tree: Path, name: str) -> dict[str, Any]:
    """One of the tree's sample events (``events/NAME``)."""
    return json.loads((tree / "events" / name).read_text())


def seed_example(tree: Path) -> dict[str, Any]:
    """InnoPaaS's example report, as the tree's events/webhook_innopaas_seed_example.json carries it."""
    body = json.loads(event(tree, "webhook_innopaas_seed_example.json")["body"])
    return body[0] if isinstance(body, list) else body
