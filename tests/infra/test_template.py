"""template.yaml: both linters pass, and the guarantees the project relies on hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from dlrhub_local.template import load
from tests.support import ROOT, TEMPLATE

LINT_TIMEOUT = 120


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return load(TEMPLATE)


def resources_of(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in doc["Resources"].items() if res["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource, statement) for every inline IAM statement: SAM ``Policies`` and IAM resources."""
    for name, res in doc["Resources"].items():
        props = res.get("Properties", {})
        documents: list[Any] = []
        if res["Type"] == "AWS::Serverless::Function":
            documents = [p for p in props.get("Policies", []) if isinstance(p, dict) and "Statement" in p]
        elif res["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif res["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents = [props["PolicyDocument"]]
        for document in documents:
            for statement in as_list(document["Statement"]):
                yield name, statement


def run_tool(command: list[str]) -> None:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=LINT_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"


def test_cfn_lint() -> None:
    run_tool([str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)])


def test_sam_validate_lint() -> None:
    sam = shutil.which("sam") or str(ROOT / ".venv-sam" / "bin" / "sam")
    run_tool([sam, "validate", "--lint", "--template", str(TEMPLATE)])


def test_policy_actions_have_no_wildcards(doc: dict[str, Any]) -> None:
    statements = list(policy_statements(doc))
    assert statements, "no IAM statements found"
    wild = [(name, action) for name, st in statements for action in as_list(st["Action"]) if "*" in action]
    assert not wild, f"wildcard actions: {wild}"


def test_table_settings(doc: dict[str, Any]) -> None:
    tables = resources_of(doc, "AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["TimeToLiveSpecification"]["Enabled"] is True, name
        assert props["StreamSpecification"]["StreamViewType"], name
        assert "pending" in {index["IndexName"] for index in props.get("GlobalSecondaryIndexes", [])}, name


def test_function_globals(doc: dict[str, Any]) -> None:
    function = doc["Globals"]["Function"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    # X-Ray follows the Tracing parameter, and the Tracer is told the same (it loads the SDK only when on).
    assert function["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingOn", "false", "true"]
    }
    assert doc["Parameters"]["Tracing"]["Default"] == "Active"


def test_functions_log_to_groups_with_retention(doc: dict[str, Any]) -> None:
    log_groups = resources_of(doc, "AWS::Logs::LogGroup")
    functions = resources_of(doc, "AWS::Serverless::Function")
    assert functions
    for name, function in functions.items():
        group = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(group, dict), f"{name} has no LoggingConfig.LogGroup"
        assert group.get("Ref") in log_groups, f"{name} logs to {group!r}, not a log group of this template"
        assert "RetentionInDays" in log_groups[group["Ref"]]["Properties"], f"{group['Ref']} keeps logs forever"


def test_each_event_input_provider_has_its_rule_with_the_modules_pattern(doc: dict[str, Any]) -> None:
    """The EventBridge rules of template.yaml are exactly the patterns the provider modules declare,
    each routed to the events function with the account parameter."""
    from dlrhub.providers.registry import PROVIDERS
    from dlrhub_local.template import Template

    declared = [provider.events.pattern for provider in PROVIDERS if provider.events is not None]
    rules = Template(TEMPLATE).event_rules()
    assert declared
    canonical = partial(json.dumps, sort_keys=True)
    assert sorted(map(canonical, (rule.pattern for rule in rules))) == sorted(map(canonical, declared))
    for rule in rules:
        assert rule.function == "EventsInFunction"
        assert rule.bus == "default"
    function = doc["Resources"]["EventsInFunction"]["Properties"]
    assert function["Environment"]["Variables"]["EVENTS_ACCOUNT"] == {"Ref": "EventsAccount"}
    assert function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
