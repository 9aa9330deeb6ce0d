"""The poller cases, parent side: the Infin8linx simulator in this process, the poller in a runner.

The simulator answers ``/sms/state`` after ``latency`` seconds (its own process, so it does not
share the poller's interpreter lock); its request counts are the figures' "requests made".
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from bench.lambda_env import DUMMY_CREDENTIALS, REGION
from bench.local_aws import Endpoints
from bench.poller_cases import CASES, message_ids
from bench.trees import Runner, Tree
from dlrhub_local.simulators import Infin8linxSimulator

SPID, PASSWORD = "bench-spid", "bench-password"
STATE_PATH = "/sms/state"


@dataclass(frozen=True)
class PollerSettings:
    messages: int
    latency: float
    concurrency: int
    write_concurrency: int
    throughput_writes: int


def put_secret(endpoint: str, name: str, value: dict[str, Any]) -> None:
    keys = {"aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": "bench"}
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION, **keys)
    client.create_secret(Name=name, SecretString=json.dumps(value))


def measure(tree: Tree, endpoints: Endpoints, settings: PollerSettings, python: str | None = None) -> dict[str, Any]:
    account = f"bench{uuid.uuid4().hex[:6]}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    ids = message_ids(settings.messages)
    config = {
        "dynamodb": endpoints.dynamodb,
        "moto": endpoints.moto,
        "prefix": prefix,
        "account": account,
        "messages": settings.messages,
        "concurrency": settings.concurrency,
        "write_concurrency": settings.write_concurrency,
        "throughput_writes": settings.throughput_writes,
    }
    result: dict[str, Any] = {"settings": settings.__dict__}
    with Infin8linxSimulator({SPID: PASSWORD}) as simulator:
        put_secret(endpoints.moto, f"{prefix}/infin8linx/{account}", simulator.account_secret(SPID))
        for message_id in ids:
            simulator.add(message_id, 0)
        simulator.latency = settings.latency
        with Runner(tree, "poller", config, python=python) as runner:
            result["seeded"] = runner.receive(timeout=1800)
            for case in CASES:
                if case == "all-final":
                    for n, message_id in enumerate(ids):
                        simulator.add(message_id, 1 if n % 10 < 7 else 2)
                simulator.reset_counts()
                runner.command(case)
                outcome = runner.receive(timeout=1800)
                outcome["requests"] = simulator.requests_to(STATE_PATH)
                result[case] = outcome
    return result
