"""The provider-retries proof suite in its short mode, against the local stack (proof/retries.py says what passes)."""

from __future__ import annotations

import pytest

from proof import retries
from proof.figures import Figures
from proof.target import Target

pytestmark = pytest.mark.slow


def test_retries_short(proof_stack: Target, report: list[Figures]) -> None:
    figures = retries.run(proof_stack, retries.SHORT)
    report.append(figures)
    print("\n".join(figures.notes))
    figures.check()
