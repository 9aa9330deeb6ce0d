"""The sample accounts and the InnoPaaS seed example, for runners of any tree.

A runner imports the measured tree's ``dlrhub`` (a baseline may predate the provider
registry), so it cannot read the registry itself: the parent reads this harness's
registry (:func:`sample_accounts`) and passes the accounts in the runner's config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3


def sample_accounts() -> dict[str, dict[str, str]]:
    """provider -> the secret of its sample account, from this harness's registry (parent side)."""
    from tests.support import PROVIDERS, sample_account

    return {provider.name: sample_account(provider) for provider in PROVIDERS if provider.webhook is not None}


def put_accounts(endpoint: str, prefix: str, accounts: dict[str, dict[str, str]], account: str = "demo") -> None:
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1")
    for provider, value in accounts.items():
        client.create_secret(Name=f"{prefix}/{provider}/{account}", SecretString=json.dumps(value))


def seed_example(tree: Path) -> dict[str, Any]:
    """Seed 003's example as the tree's events/webhook_innopaas_seed_example.json carries it."""
    event = json.loads((tree / "events" / "webhook_innopaas_seed_example.json").read_text())
    body = json.loads(event["body"])
    return body[0] if isinstance(body, list) else body
