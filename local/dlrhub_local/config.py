"""The local stack's configuration file: demo accounts and their secrets.

Written on first run with random secrets (never committed: see .gitignore); edit it to
choose your own. Each entry becomes the Secrets Manager secret
``{prefix}/{provider}/{account}`` in the embedded moto server, which the functions read
exactly as they read AWS Secrets Manager.

The demo accounts also carry the credentials the poller uses with the provider
simulators (spid/password, AK/SK, login/password, API account/password). The URLs are
not in the file: the simulators listen on random ports, so the stack adds ``base_url``,
``endpoint`` or ``pull_url`` when it stores the secrets. A file written before these
keys existed gets them, with fresh random values, in memory (the file is left as it is).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any


def generate() -> dict[str, Any]:
    """Demo accounts, one per provider, each with fresh random secrets."""

    def secret() -> str:
        return secrets.token_urlsafe(24)

    return {
        "accounts": {
            "infin8linx/demo": {"webhook_secret": secret(), "spid": "demo-spid", "password": secret()},
            "webcom/demo": {
                "webhook_secret": secret(),
                "utc_offset": "+03:00",
                "login": "demo",
                "password": secret(),
                "query": "json",
            },
            "innopaas/demo": {
                "webhook_secret": secret(),
                "receiver": "dlrhub-demo",
                "pswd": secret(),
                "api_account": "demo",
                "api_password": secret(),
            },
            "huawei/demo": {
                "webhook_secret": secret(),
                "project_id": secrets.token_hex(16),
                "sign_id": secrets.token_hex(16),
                "ak": "DEMO" + secrets.token_hex(8).upper(),
                "sk": secret(),
            },
        }
    }


def with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` plus any demo account or key it lacks (a file from an older version)."""
    accounts = config.setdefault("accounts", {})
    for name, defaults in generate()["accounts"].items():
        if name in accounts:
            for key, value in defaults.items():
                accounts[name].setdefault(key, value)
        else:
            accounts[name] = defaults
    return config


def load_or_create(path: Path) -> dict[str, Any]:
    if path.exists():
        config = with_defaults(json.loads(path.read_text()))
    else:
        config = generate()
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)
    for name, account in config.get("accounts", {}).items():
        provider, _, account_name = name.partition("/")
        if not provider or not account_name or "webhook_secret" not in account:
            raise ValueError(f"{path}: account {name!r} must be 'provider/account' with a webhook_secret")
    return config
