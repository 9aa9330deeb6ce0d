"""What the tools share: AWS clients (a deployed stack or a local endpoint), times, accounts, and
failing in one line: what is missing and how to give it, never a traceback."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from dlrhub.runtime.settings import parse_accounts


def client(service: str, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 client: the default chain (profile, region, ``AWS_ENDPOINT_URL_*``), or ``endpoint_url``
    and ``region`` where given."""
    options = {key: value for key, value in (("endpoint_url", endpoint_url), ("region_name", region)) if value}
    return boto3.client(service, **options)


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
    parser.add_argument("--region", help="the stack's AWS region (default: AWS_REGION, or the profile's region)")


def why_it_failed(error: Exception) -> str:
    """One line: what is missing or wrong, and how to give it."""
    if isinstance(error, NoRegionError):
        return "no AWS region: give --region, or set AWS_REGION (or a profile's region)"
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            " (a local stack takes any, e.g. local and local)"
        )
    if isinstance(error, EndpointConnectionError):
        return f"nothing answers at {error.kwargs.get('endpoint_url')}: is --endpoint-url (or the region) right?"
    if isinstance(error, ClientError):
        return refusal_of(error)
    return str(error)


def refusal_of(error: ClientError) -> str:
    """What AWS's refusal says, and which option to check."""
    details = error.response.get("Error", {})
    code, message = details.get("Code", "Error"), details.get("Message", str(error))
    if code in ("ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
        return f"{message}: check --table (output MessagesTableName) or --queue-url (StreamFailureQueueUrl)"
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException", "AccessDenied"):
        return f"AWS refused the credentials ({code}): {message}"
    return f"AWS answered {code}: {message}"


def run_tool(prog: str, work: Callable[[], int], out: Callable[[str], None]) -> int:
    """``work()``'s exit code; an AWS error told in one line (exit 2), never as a traceback."""
    try:
        return work()
    except (BotoCoreError, ClientError) as error:
        out(f"{prog}: {why_it_failed(error)}")
        return 2
