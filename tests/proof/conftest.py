"""The proof suites' short modes (docs/proof.md): one local stack for hostile input, retries and load; one on
proxied engines for the faults. Each suite's figures are printed at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dlrhub_measure.proof import faults
from dlrhub_measure.proof.figures import Figures, table
from dlrhub_measure.proof.target import Target, running
from tests.support import missing

FIGURES = pytest.StashKey[list[Figures]]()


def start_or_skip(error: Exception) -> None:
    missing(f"the local stack on DynamoDB Local did not start: {error}")


@pytest.fixture(scope="session")
def proof_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    try:
        with running(tmp_path_factory.mktemp("proof")) as target:
            yield target
    except RuntimeError as error:
        start_or_skip(error)


@pytest.fixture(scope="session")
def fault_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[faults.Rig]:
    try:
        with faults.rig(Path(tmp_path_factory.mktemp("proof-faults"))) as rig:
            yield rig
    except RuntimeError as error:
        start_or_skip(error)


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[list[Figures]]:
    """Figures a test puts here are printed in the summary (and their notes when it fails)."""
    found: list[Figures] = []
    yield found
    request.config.stash.setdefault(FIGURES, []).extend(found)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.write_line("proof suites, short mode (make proof runs the full ones):")
        for line in table(figures):
            terminalreporter.write_line(line)
