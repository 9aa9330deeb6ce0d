"""The local stack's configuration file: accounts and their keys.

Written on first run with a demo account per simulated provider and random secrets
(never committed: see .gitignore); edit it to choose your own or add accounts. Each
entry ``"{provider}/{account}": {keys}`` becomes the Secrets Manager secret
``{prefix}/{provider}/{account}`` in the embedded moto server, which the functions read
exactly as they read AWS Secrets Manager, and validate per capability exactly as
deployed (docs/providers.md lists each provider's keys).

The demo accounts' keys are the ones their simulators accept (spid/password, AK/SK,
login/password, API account/password). Their URLs are not in the file unless you put
them there: the simulators listen on random ports, so the stack adds ``base_url``,
``endpoint`` or ``pull_url`` where the file gives none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dlrhub.providers.registry import provider_named
from dlrhub_local.demo import demo_account_name
from dlrhub_local.simulators import SIMULATORS


def generate() -> dict[str, Any]:
    """A demo account per simulated provider, each with fresh random secrets."""
    return {"accounts": {demo_account_name(provider): sim.demo_account() for provider, sim in SIMULATORS.items()}}


def with_defaults(config: dict[str, Any]) -> bool:
    """Add to ``config`` any demo account it lacks entirely (a file from an older version, or
    one with only your own accounts); True when it added one.

    Accounts already in the file are left as they are: a key removed on purpose (a demo
    account made push-only, say) stays removed.
    """
    accounts = config.setdefault("accounts", {})
    missing = {name: keys for name, keys in generate()["accounts"].items() if name not in accounts}
    accounts.update(missing)
    return bool(missing)


def save(config: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)


def check(config: dict[str, Any], path: Path) -> None:
    for name, keys in config.get("accounts", {}).items():
        provider, _, account = name.partition("/")
        if provider_named(provider) is None or not account or not isinstance(keys, dict):
            raise ValueError(f"{path}: account {name!r} must be 'provider/account' of a known provider, with keys")


def load_or_create(path: Path) -> dict[str, Any]:
    config = json.loads(path.read_text()) if path.exists() else {}
    if with_defaults(config):
        save(config, path)  # the file holds every account the stack runs with
    check(config, path)
    return config
