"""What the tools share: AWS clients (a deployed stack or a local endpoint), times, accounts."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

import boto3

from dlrhub.runtime.settings import parse_accounts


def client(service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client: the default chain (profile, region, ``AWS_ENDPOINT_URL_*``), or ``endpoint_url``."""
    return boto3.client(service, endpoint_url=endpoint_url) if endpoint_url else boto3.client(service)


def utc_time(text: str) -> datetime:
    """``2026-11-25T10:00:00Z`` (or with an offset) as an aware UTC time."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no timezone: end it with Z")
    return moment.astimezone(UTC)


def accounts(text: str) -> list[tuple[str, str]]:
    try:
        found = parse_accounts(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not found:
        raise argparse.ArgumentTypeError("name at least one provider/account")
    return found


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", required=True, help="the stack's messages table (output MessagesTableName)")
    parser.add_argument(
        "--endpoint-url",
        help="one endpoint for every AWS call (a local stack); per service: AWS_ENDPOINT_URL_DYNAMODB etc.",
    )
