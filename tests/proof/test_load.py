"""The load proof suite in its short mode, against the local stack (its module says what passes)."""

from __future__ import annotations

import pytest

from dlrhub_measure.proof import load
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.target import Target

pytestmark = pytest.mark.slow


def test_load_short(proof_stack: Target, report: list[Figures]) -> None:
    figures = load.run(proof_stack, load.SHORT)
    report.append(figures)
    print("\n".join(figures.notes))
    figures.check()
