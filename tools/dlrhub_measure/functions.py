"""A tree's function as Lambda runs it: its template's environment, pointed at loopback engines.

Only :class:`dlrhub_local.template.Template` is relied on (``functions()``, ``parameter_defaults()``,
``resources``), so the same code reads the baseline tree's template and this one's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from dlrhub_local.template import Function, Template
from dlrhub_measure.aws import DUMMY_CREDENTIALS, tree_template

#: Never contacted: the discard port. Set so no SDK call made at import can reach AWS.
UNUSED_ENDPOINT = "http://127.0.0.1:9"
DESTINATION = "628131565746"


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
    found = {key: resolve(value, parameters, table_name) for key, value in function.environment.items()}
    return {key: value for key, value in found.items() if value is not None}


def function_setting(template: Template, logical_id: str, name: str, default: Any) -> Any:
    """``Timeout``/``MemorySize`` of a function: its own, else the Globals', else ``default``."""
    own = template.resources[logical_id].get("Properties", {})
    shared = template.doc.get("Globals", {}).get("Function", {})
    return own.get(name, shared.get(name, default))


def memory_mb(template: Template, logical_id: str) -> int:
    """A function's ``MemorySize`` (Lambda's default 128 MB)."""
    return int(function_setting(template, logical_id, "MemorySize", 128))


def stream_mapping(template: Template) -> dict[str, Any]:
    """The stream function's DynamoDB event source (batch size, window, filters)."""
    events = template.resources["StreamFunction"]["Properties"]["Events"]
    return next(event["Properties"] for event in events.values() if event.get("Type") == "DynamoDB")


def lambda_runtime_variables(function: Function, template: Template) -> dict[str, str]:
    """What the Lambda runtime itself sets (function name, memory, the runtime's name)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": f"dlrhub-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb(template, function.logical_id)),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(function.source.parent),
        "_HANDLER": f"{function.source.stem}.{function.handler}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    }


def load_function(
    tree: Path, logical_id: str, table: str, config: dict[str, Any], **extra: str
) -> Callable[[dict[str, Any], Any], Any]:
    """The tree's handler of ``logical_id`` (in a runner), its environment the template's with the table
    on ``config["dynamodb"]`` and the account secrets (and EventBridge) on ``config["moto"]``."""
    from dlrhub_local.gateway import load_handler

    template = tree_template(tree)
    function = template.functions()[logical_id]
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.update(function_environment(template, function, table))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": config["dynamodb"],
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": config["moto"],
            "AWS_ENDPOINT_URL_EVENTBRIDGE": config["moto"],
            "SECRETS_PREFIX": config["prefix"],
            **extra,
        }
    )
    return load_handler(function)


def register_all(store: Any, entries: list[tuple[Any, ...]], workers: int, **options: Any) -> None:
    """:func:`register_message` of each entry (its arguments after the store), ``workers`` at once."""
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda entry: register_message(store, *entry, **options), entries))


def register_message(
    store: Any,
    provider: str,
    account: str,
    message_id: str,
    submitted: datetime,
    ref: str | None = None,
    *,
    registered: datetime | None = None,
    destination: str = DESTINATION,
    parts: int | None = None,
) -> None:
    """Register one message through the tree's store (in a runner), registered at ``submitted`` unless told."""
    from dlrhub.domain.registration import Registration

    registration = Registration(
        provider=provider,
        account=account,
        message_id=message_id,
        destination=destination,
        submitted_at=submitted,
        parts=parts,
        customer_ref=ref,
    )
    store.register(registration, registered or submitted)
