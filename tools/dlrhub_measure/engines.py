"""The engines a measurement runs on: AWS's DynamoDB Local, moto server, and the local stack.

Every server listens on loopback (DynamoDB Local on every interface: a random port), and is stopped
on the way out whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlrhub_local import config as local_config
from dlrhub_local.processes import Server, dynamodb_local_jar, start_dynamodb_local, start_moto
from dlrhub_measure.aws import client
from dlrhub_measure.runner import HARNESS
from tests.stack_process import StackProcess
from tests.stack_process import local_stack as start_stack

#: The local stack as a measurement drives it: its functions' INFO log lines in its output as they
#: are (Powertools JSON, as CloudWatch gets them: what the leak scanner reads), no demo traffic,
#: no scheduled runs.
QUIET = ("--no-demo", "--verbose", "--json-logs", "--poll-every", "0", "--report-every", "0")


@dataclass(frozen=True)
class Engines:
    dynamodb: Server
    moto: Server


def jar() -> Path:
    found = dynamodb_local_jar(HARNESS / ".cache" / "dynamodb-local")
    if found is None:
        raise RuntimeError("DynamoDB Local is not installed (needs npm and java): run make setup")
    return found


def warm_up(endpoint: str, writes: int) -> None:
    """Writes and reads on a scratch table, so DynamoDB Local's JIT has compiled its paths before any figure."""
    dynamodb = client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName="bench-warm-up",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(writes):
        key = {"pk": {"S": f"warm#{n % 50}"}}
        dynamodb.update_item(
            TableName="bench-warm-up",
            Key=key,
            UpdateExpression="SET #v = :v",
            ConditionExpression="attribute_not_exists(#v) OR #v < :v",
            ExpressionAttributeNames={"#v": "v"},
            ExpressionAttributeValues={":v": {"N": str(n)}},
        )
        dynamodb.get_item(TableName="bench-warm-up", Key=key)
    dynamodb.delete_table(TableName="bench-warm-up")


@contextmanager
def local_aws(warm_up_writes: int = 0) -> Iterator[Engines]:
    """DynamoDB Local (the tables) and moto server (Secrets Manager, EventBridge) on random ports."""
    with ExitStack() as stack:
        dynamodb = start_dynamodb_local(jar())
        stack.callback(dynamodb.stop)
        moto = start_moto()
        stack.callback(moto.stop)
        if warm_up_writes:
            warm_up(dynamodb.endpoint, warm_up_writes)
        yield Engines(dynamodb, moto)


@contextmanager
def local_stack(
    directory: Path,
    *args: str,
    accounts: dict[str, dict[str, Any]] | None = None,
    quiet: bool = True,
    timeout: float = 90.0,
) -> Iterator[tuple[StackProcess, dict[str, dict[str, Any]]]]:
    """The local stack (:data:`QUIET` unless told, then ``args``) with a demo account per simulated
    provider and fresh random secrets (plus ``accounts``); yields it and every account's secret."""
    config = local_config.generate()
    config["accounts"] |= accounts or {}
    path = directory / "measure-local.json"
    local_config.save(config, path)
    with start_stack(path, *(QUIET if quiet else ()), *args, timeout=timeout) as stack:
        yield stack, config["accounts"]
