"""The template as a security reviewer reads it: checkov clean (each exception justified where it
is made), and no wildcard IAM action or resource on a data path of the rendered template."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.infra.rendered import render
from tests.support import ROOT, TEMPLATE, missing

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
#: Services whose calls read or write the hub's data: their statements must name actions and resources.
DATA_SERVICES = ("dynamodb", "secretsmanager", "events", "sqs", "kms", "sns")


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    if not CHECKOV.exists():
        missing("checkov is not installed (make setup installs it)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "-f",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_nothing_unjustified(checkov_report: dict[str, Any]) -> None:
    failed = [(c["check_id"], c["resource"]) for c in checkov_report["results"]["failed_checks"]]
    assert failed == []
    assert checkov_report["summary"]["passed"] > 0


def test_every_checkov_exception_says_why(checkov_report: dict[str, Any]) -> None:
    skipped = checkov_report["results"]["skipped_checks"]
    assert skipped
    for check in skipped:
        comment = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert len(comment) > 40, f"{check['check_id']} on {check['resource']}: no reason given"


def policy_statements(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(role, statement) of every inline policy of every IAM role in the rendered template."""
    found = []
    for name, resource in doc["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            found += [(name, statement) for statement in (statements if isinstance(statements, list) else [statements])]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_action_or_resource_on_a_data_path() -> None:
    doc = json.loads(render())
    statements = policy_statements(doc)
    assert statements
    data = 0
    for role, statement in statements:
        actions = [str(action) for action in as_list(statement.get("Action", []))]
        if not any(action.split(":")[0] in DATA_SERVICES for action in actions):
            continue
        data += 1
        assert all("*" not in action for action in actions), f"{role}: {actions}"
        for resource in as_list(statement.get("Resource", [])):
            text = json.dumps(resource)
            assert text != '"*"', f"{role}: {actions} on every resource"
            assert not text.rstrip('"').endswith(":*"), f"{role}: {actions} on {text}"
    assert data >= 8  # the functions' table, secrets, bus and queue statements were all looked at
