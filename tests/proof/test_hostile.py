"""The hostile-input proof suite in its short mode, against the local stack (its module says what passes)."""

from __future__ import annotations

import pytest

from dlrhub_measure.proof import hostile
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.target import Target

pytestmark = pytest.mark.slow


def test_hostile_short(proof_stack: Target, report: list[Figures]) -> None:
    figures = hostile.run(proof_stack, hostile.SHORT)
    report.append(figures)
    print("\n".join(figures.notes))
    figures.check()
