"""The environment a function gets on Lambda, read from a tree's template.yaml, pointed at loopback.

Only :class:`dlrhub_local.template.Template` is relied on (``functions()``, ``parameter_defaults()``,
``resources``), so the same code reads the baseline tree's template and this one's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlrhub_local.template import Function, Template

REGION = "us-east-1"
#: Never contacted: the discard port. Set so no SDK call made at import can reach AWS.
UNUSED_ENDPOINT = "http://127.0.0.1:9"

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}


def resolve(value: Any, parameters: dict[str, Any], table_name: str) -> str | None:
    """A template environment value: a literal, a ``!Ref`` to a parameter (its default) or to the table."""
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        return str(parameters[ref]) if ref in parameters else table_name
    if isinstance(value, str | int | float):
        return str(value)
    return None


def function_environment(template: Template, function: Function, table_name: str) -> dict[str, str]:
    """The template's variables for ``function`` (Globals and its own), parameters at their defaults."""
    parameters = template.parameter_defaults()
    env = {}
    for key, value in function.environment.items():
        resolved = resolve(value, parameters, table_name)
        if resolved is not None:
            env[key] = resolved
    return env


def function_setting(template: Template, logical_id: str, name: str, default: Any) -> Any:
    """``Timeout``/``MemorySize`` of a function: its own, else the Globals', else ``default``."""
    own = template.resources[logical_id].get("Properties", {})
    shared = template.doc.get("Globals", {}).get("Function", {})
    return own.get(name, shared.get(name, default))


def lambda_runtime_variables(function: Function, template: Template) -> dict[str, str]:
    """What the Lambda runtime itself sets (function name, memory, the runtime's name)."""
    memory = function_setting(template, function.logical_id, "MemorySize", 128)
    return {
        "AWS_LAMBDA_FUNCTION_NAME": f"dlrhub-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(function.source.parent),
        "_HANDLER": f"{function.source.stem}.{function.handler}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    }


def tree_template(tree: Path) -> Template:
    return Template(tree / "template.yaml")
