"""The faults proof suite in its short mode: the engines behind fault-injecting proxies (its module says how)."""

from __future__ import annotations

import pytest

from dlrhub_measure.proof import faults
from dlrhub_measure.proof.figures import Figures

pytestmark = pytest.mark.slow


def test_faults_short(fault_rig: faults.Rig, report: list[Figures]) -> None:
    figures = faults.run(fault_rig, faults.SHORT)
    report.append(figures)
    print("\n".join(figures.notes))
    figures.check()
