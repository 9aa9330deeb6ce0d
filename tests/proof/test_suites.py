"""The hostile-input, load and provider-retries proof suites in their short modes, against one local stack
(each suite's module says what passes)."""

from __future__ import annotations

from types import ModuleType

import pytest

from dlrhub_measure.proof import hostile, load, retries
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.target import Target

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("suite", [hostile, load, retries], ids=["hostile", "load", "retries"])
def test_suite_short(suite: ModuleType, proof_stack: Target, report: list[Figures]) -> None:
    figures = suite.run(proof_stack, suite.SHORT)
    report.append(figures)
    print("\n".join(figures.notes))
    figures.check()
