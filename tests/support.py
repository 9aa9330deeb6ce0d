"""Helpers shared by the test suites (not fixtures: plain functions and data)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import boto3

from dlrhub_local.template import Template

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
TEMPLATE = ROOT / "template.yaml"
SAMPLE_SECRET = "sample-secret-change-me"  # the secret the sample events carry (test data)

#: What each sample event must do: (HTTP status, status stored for its msgid or None).
WEBHOOK_EVENTS: dict[str, tuple[int, str | None]] = {
    "webhook_infin8linx_delivered.json": (200, "DELIVERED"),
    "webhook_infin8linx_pending.json": (200, "PENDING"),
    "webhook_infin8linx_failed.json": (200, "FAILED"),
    "webhook_infin8linx_wrong_secret.json": (403, None),
    "webhook_infin8linx_bad_state.json": (400, None),
}

DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def event_message_id(event: dict[str, Any]) -> str:
    from urllib.parse import parse_qs

    return parse_qs(event["rawQueryString"])["msgid"][0]


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_table(endpoint: str, name: str | None = None) -> str:
    """A fresh messages table on ``endpoint``, defined exactly as template.yaml defines it."""
    name = name or unique_name("messages")
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    client.create_table(**Template(TEMPLATE).table_definition("MessagesTable", name))
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return name


def put_account_secret(endpoint: str, provider: str, account: str, value: dict[str, Any], prefix: str) -> None:
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=DUMMY_AWS["AWS_REGION"])
    client.create_secret(Name=f"{prefix}/{provider}/{account}", SecretString=json.dumps(value))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
