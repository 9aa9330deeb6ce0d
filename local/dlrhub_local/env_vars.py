"""The env-vars file of a running local stack: each function's variables pointing at its endpoints.

``sam local invoke --env-vars FILE`` sets, per function, only the variables the template declares
for it (any other key is ignored without a word): this file holds exactly those, with the values
the local stack runs its own copies with (the table, the secrets prefix, the stack's name) and
the endpoints of this run (DynamoDB, Secrets Manager, EventBridge, Lambda), which change with
each run unless fixed (``--dynamodb-port``, ``--aws-port``). ``make invoke`` reads the same file.
The stack writes it when it is ready and removes it when it stops.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dlrhub_local.template import Template


def document(template: Template, values: dict[str, str], endpoints: dict[str, str]) -> dict[str, dict[str, str]]:
    """``{function: {variable: value}}`` for each declared variable that ``endpoints`` or ``values`` give."""
    found: dict[str, dict[str, str]] = {}
    for name, function in template.functions().items():
        found[name] = {
            key: endpoints.get(key) or values[key]
            for key in function.environment
            if endpoints.get(key) or values.get(key) is not None
        }
    return found


def write_env_vars(path: Path, template: Template, values: dict[str, str], endpoints: dict[str, str]) -> Path:
    """Write the file (owner-only: it names the stack's endpoints) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document(template, values, endpoints), indent=2, sort_keys=True) + "\n"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.chmod(0o600)
    os.replace(temporary, path)  # whole or not at all: make invoke may read it at any moment
    return path


def read_env_vars(path: Path, function: str) -> dict[str, str]:
    """The variables of ``function``; FileNotFoundError when no stack wrote the file, KeyError for
    a function the file does not name."""
    found: dict[str, Any] = json.loads(path.read_text())
    return {key: str(value) for key, value in found[function].items()}
