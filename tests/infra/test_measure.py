"""``make bench`` and ``make bench-scale`` in their short modes: every part runs once, every row and
item is printed, and this tree passes every item of the scale benchmark.

A benchmark is not a timed test: nothing here asserts a speed, only that the instrument works (on this
tree, and for ``make bench`` on a baseline tree in the same run: this tree again). Short sizes prove
the instrument and the hub's scale fixes together; the full runs' figures are in the README.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlrhub_local.processes import dynamodb_local_jar
from dlrhub_local.template import Template
from dlrhub_measure.bench import rows, write_units
from tests.support import ROOT, TEMPLATE, missing
from tests.unit.test_scale_models import BILL_LINES

pytestmark = pytest.mark.slow


def short_run(module: str, *args: str, timeout: float) -> str:
    """``python -m MODULE --short ARGS``: its report (stdout), once it exited 0."""
    absent = [] if shutil.which("java") else ["java"]
    absent += [] if dynamodb_local_jar(ROOT / ".cache" / "dynamodb-local") else ["DynamoDB Local (make setup)"]
    if absent:
        missing(f"{module} needs {absent}")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    command = [sys.executable, "-m", module, "--short", *args]
    reply = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert reply.returncode == 0, reply.stderr[-4000:]
    return reply.stdout


def expected_rows() -> list[str]:
    names = [what for what, _, _, _ in rows.WRITE_KINDS] + [rows.SEED_DUPLICATE, rows.SEED_SIZE, rows.LIFE_SIZE]
    names += [f"scorecard write units per final report, {label}" for label, _ in write_units.SCORECARD_WINDOWS]
    names += [f"cold init, {function}" for function in Template(TEMPLATE).functions()]
    names += ["warm webhook per report vs one bare UpdateItem", "poller, all become final"]
    names += ["cost per million reports", "cost per million reports, with customer_ref"]
    names += [f"bill per million reports: {line}" for line in BILL_LINES]
    return [*names, "bill per million reports, every line at 10 M messages a day"]


def test_bench_prints_every_row_for_both_trees() -> None:
    report = short_run("dlrhub_measure.bench", "--baseline", str(ROOT), timeout=480)
    table = [[cell.strip() for cell in line.strip("|").split("|")] for line in report.splitlines() if line[:2] == "| "]
    header, body = table[0], {cells[0]: cells for cells in table[1:]}
    assert header[-2:] == ["before: figure", "before: ratio"]
    assert len(body) == len(table) - 1, "two rows of the same name"
    for name in expected_rows():
        cells = body[name]
        assert len(cells) == 7, cells
        assert "-" not in (cells[1], cells[5]), f"{name}: a tree has no figure: {cells}"
    assert any(name.startswith("poller, ") and name.endswith("nothing new") for name in body)
    for section in ("## Write units per kind", "## Import profile of the webhook function", "## Cost per million"):
        assert section in report


def test_bench_scale_judges_every_item_and_prints_the_bill(tmp_path: Path) -> None:
    figures = tmp_path / "scale.json"
    report = short_run("dlrhub_measure.scale", "--json", str(figures), timeout=540)
    judged = json.loads(figures.read_text())["after"]["judged"]
    items = ["1 ingress", "2 window", "3 by id", "4 counters", "5 stream", "6 503s", "7 hot keys", "8 callbacks"]
    assert sorted(judged) == [*items, "9 sent"]
    failed = {item: figures for item, figures in judged.items() if not figures["passed"]}
    assert not failed, failed
    for line in (*BILL_LINES, "total"):
        assert f"| {line} " in report


def test_a_baseline_from_before_the_core_in_sub_packages_is_refused(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    for module in ("dlrhub_measure.bench", "dlrhub_measure.scale"):
        command = [sys.executable, "-m", module, "--short", "--baseline", str(tmp_path)]
        reply = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert reply.returncode == 2
        assert "from before commit 3caf1fe" in reply.stderr
