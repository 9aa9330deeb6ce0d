"""AWS's DynamoDB Local (the tables) and moto server (Secrets Manager), shared by every runner of a run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3

from bench.lambda_env import REGION
from bench.trees import HARNESS
from dlrhub_local.processes import dynamodb_local_jar, start_dynamodb_local, start_moto

JAR_HOME = HARNESS / ".cache" / "dynamodb-local"


@dataclass(frozen=True)
class Endpoints:
    dynamodb: str
    moto: str


def jar() -> Path:
    found = dynamodb_local_jar(JAR_HOME)
    if found is None:
        raise SystemExit("DynamoDB Local is not installed (needs npm and java): run make setup")
    return found


def warm_up(endpoint: str, writes: int) -> None:
    """Writes and reads on a scratch table, so DynamoDB Local's JIT has compiled its paths before any figure."""
    client = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    client.create_table(
        TableName="bench-warm-up",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(writes):
        key = {"pk": {"S": f"warm#{n % 50}"}}
        client.update_item(
            TableName="bench-warm-up",
            Key=key,
            UpdateExpression="SET #v = :v",
            ConditionExpression="attribute_not_exists(#v) OR #v < :v",
            ExpressionAttributeNames={"#v": "v"},
            ExpressionAttributeValues={":v": {"N": str(n)}},
        )
        client.get_item(TableName="bench-warm-up", Key=key)
    client.delete_table(TableName="bench-warm-up")


@contextmanager
def local_aws() -> Iterator[Endpoints]:
    """Both servers on loopback, random ports, stopped on the way out whatever happens."""
    with ExitStack() as stack:
        dynamodb = start_dynamodb_local(jar())
        stack.callback(dynamodb.stop)
        moto = start_moto()
        stack.callback(moto.stop)
        yield Endpoints(dynamodb.endpoint, moto.endpoint)
