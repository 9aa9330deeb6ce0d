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

DEFAULT_ACCOUNTS = ["infin8linx/demo"]


def generate() -> dict[str, Any]:
    return {"accounts": {name: {"webhook_secret": secrets.token_urlsafe(24)} for name in DEFAULT_ACCOUNTS}}


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
