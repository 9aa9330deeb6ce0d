"""The faults proof suite in its short mode: the engines behind fault-injecting proxies (proof/faults.py)."""

from __future__ import annotations

import pytest

from proof import faults
from proof.figures import Figures

pytestmark = pytest.mark.slow


def test_faults_short(fault_rig: faults.Rig, report: list[Figures]) -> None:
    figures = faults.run(fault_rig, faults.SHORT)
    report.append(figures)
    print("\n".join(figures.notes))
    figures.check()
