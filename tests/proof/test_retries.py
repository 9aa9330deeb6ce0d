"""The provider-retries proof suite in its short mode, against the local stack (its module: what passes)."""

from __future__ import annotations

import pytest

from dlrhub_measure.proof import retries
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.target import Target

pytestmark = pytest.mark.slow


def test_retries_short(proof_stack: Target, report: list[Figures]) -> None:
    figures = retries.run(proof_stack, retries.SHORT)
    report.append(figures)
    print("\n".join(figures.notes))
    figures.check()
