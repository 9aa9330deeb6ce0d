from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from dlrhub_local.processes import Server, dynamodb_local_jar, start_dynamodb_local, start_moto
from tests.support import DUMMY_AWS, ROOT, in_ci

for _key, _value in DUMMY_AWS.items():
    os.environ.setdefault(_key, _value)
# No test may reach a real AWS endpoint by accident.
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DLRHubTests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "dlrhub")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Server]:
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[Server]:
    jar = dynamodb_local_jar(ROOT / ".cache" / "dynamodb-local")
    missing = "DynamoDB Local is not installed (make setup)" if jar is None else None
    if shutil.which("java") is None:
        missing = "java is not installed"
    if missing:
        if in_ci() and shutil.which("java"):
            pytest.fail(f"CI has Java, so DynamoDB Local must run: {missing}")
        pytest.skip(missing)
    server = start_dynamodb_local(jar)
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["moto", "dynamodb-local"])
def dynamodb_endpoint(request: pytest.FixtureRequest) -> str:
    """Every store test runs against moto server and against AWS's DynamoDB Local."""
    server = request.getfixturevalue("moto_server" if request.param == "moto" else "dynamodb_local")
    return server.endpoint
