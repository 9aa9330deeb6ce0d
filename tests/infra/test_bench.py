"""``python -m bench --short`` runs every part once and prints every row of issue 10's table.

A benchmark is not a timed test: nothing here asserts a speed, only that the instrument works
(on this tree, and on a baseline tree in the same run: this tree again).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from bench import rows, write_units
from dlrhub_local.processes import dynamodb_local_jar
from dlrhub_local.template import Template
from tests.support import ROOT, TEMPLATE, missing

pytestmark = pytest.mark.slow


def expected_rows() -> list[str]:
    names = [what for what, _, _, _ in rows.WRITE_KINDS] + [rows.SEED_DUPLICATE, rows.SEED_SIZE, rows.LIFE_SIZE]
    names += [f"scorecard write units per final report, {label}" for label, _ in write_units.SCORECARD_WINDOWS]
    names += [f"cold init, {function}" for function in Template(TEMPLATE).functions()]
    names += ["warm webhook per report vs one bare UpdateItem", "poller, all become final"]
    names += ["cost per million reports", "cost per million reports, with customer_ref"]
    # issue 18, item 10: the lines the per-report path leaves out, and the whole bill's total
    names += [
        f"bill per million reports: {line}"
        for line in (
            "Lambda stream function",
            "DynamoDB counters+checkpoints",
            "EventBridge PutEvents",
            "CloudWatch Logs",
            "X-Ray traces",
            "Secrets Manager",
            "DynamoDB PITR",
            "DynamoDB storage",
        )
    ]
    names.append("bill per million reports, every line at 10 M messages a day")
    return names


def test_short_mode_prints_every_row_for_both_trees() -> None:
    absent = [] if shutil.which("java") else ["java"]
    absent += [] if dynamodb_local_jar(ROOT / ".cache" / "dynamodb-local") else ["DynamoDB Local (make setup)"]
    if absent:
        missing(f"the benchmark's short mode needs {absent}")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    reply = subprocess.run(
        [sys.executable, "-m", "bench", "--short", "--baseline", str(ROOT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=480,
    )
    assert reply.returncode == 0, reply.stderr[-4000:]
    table = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in reply.stdout.splitlines() if line[:2] == "| "
    ]
    header, body = table[0], {cells[0]: cells for cells in table[1:]}
    assert header[-2:] == ["before: figure", "before: ratio"]
    assert len(body) == len(table) - 1, "two rows of the same name"
    for name in expected_rows():
        cells = body[name]
        assert len(cells) == 7, cells
        assert "-" not in (cells[1], cells[5]), f"{name}: a tree has no figure: {cells}"
    assert any(name.startswith("poller, ") and name.endswith("nothing new") for name in body)
    for section in ("## Write units per kind", "## Import profile of the webhook function", "## Cost per million"):
        assert section in reply.stdout
