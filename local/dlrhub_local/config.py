"""The local stack's configuration file: demo accounts and their secrets.

Written on first run with random secrets (never committed: see .gitignore); edit it to
choose your own. Each entry becomes the Secrets Manager secret
``{prefix}/{provider}/{account}`` in the embedded moto server, which the functions read
exactly as they read AWS Secrets Manager.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any


def generate() -> dict[str, Any]:
    """Demo accounts, one per provider that pushes, each with fresh random secrets."""

    def secret() -> str:
        return secrets.token_urlsafe(24)

    return {
        "accounts": {
            "infin8linx/demo": {"webhook_secret": secret()},
            "webcom/demo": {"webhook_secret": secret(), "utc_offset": "+03:00"},
            "innopaas/demo": {"webhook_secret": secret(), "receiver": "dlrhub-demo", "pswd": secret()},
        }
    }


def load_or_create(path: Path) -> dict[str, Any]:
    if path.exists():
        config = json.loads(path.read_text())
    else:
        config = generate()
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)
    for name, account in config.get("accounts", {}).items():
        provider, _, account_name = name.partition("/")
        if not provider or not account_name or "webhook_secret" not in account:
            raise ValueError(f"{path}: account {name!r} must be 'provider/account' with a webhook_secret")
    return config
