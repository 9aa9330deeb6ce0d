"""Cold init of each function against ``import boto3``, each in a fresh interpreter.

A function is imported as the Lambda runtime imports it: its code directory is the working
directory and first on ``sys.path``, the layer (``layers/core``) is on ``PYTHONPATH``, the
environment is the template's (parameters at their defaults) plus what the Lambda runtime sets,
dummy credentials and an endpoint that nothing contacts at import. The time is the import alone,
measured inside the process, so interpreter start-up is left out of both sides. Targets run in
a shuffled order each round, after one untimed round that writes the bytecode caches.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from dlrhub_measure.aws import tree_template
from dlrhub_measure.functions import UNUSED_ENDPOINT, function_environment, lambda_runtime_variables
from dlrhub_measure.runner import HARNESS, Tree, clean_environment

#: The import, timed inside the fresh interpreter; prints milliseconds.
TIMED_IMPORT = (
    "import sys, time\n"
    "started = time.perf_counter()\n"
    "__import__(sys.argv[1])\n"
    "print((time.perf_counter() - started) * 1000)\n"
)
BENCH_VENV = HARNESS / ".venv-bench313"
REFERENCE = "import boto3"
#: The least any function of the hub does at init: boto3 and one DynamoDB client (the floor).
FLOOR = "import boto3 + a DynamoDB client"
FLOOR_MODULE = "boto3_and_a_client"


def interpreter() -> str:
    """Python 3.13 (as on Lambda) from ``make`` 's .venv-bench313 when present, else this one."""
    candidate = BENCH_VENV / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def runner_interpreter(python: str) -> str:
    """``python`` for the runners too when it has what they import (the template reader's PyYAML), else this one."""
    try:
        probe = subprocess.run([python, "-c", "import boto3, pydantic, yaml"], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return sys.executable
    return python if probe.returncode == 0 else sys.executable


def interpreter_version(python: str) -> str:
    reply = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, timeout=60
    )
    return reply.stdout.strip() or "unknown"


@dataclass(frozen=True)
class Target:
    """One thing to import: ``module`` from ``directory`` with ``env``."""

    label: str
    tree: str
    module: str
    directory: Path
    env: dict[str, str] = field(hash=False, compare=False)


def reference_target(directory: Path) -> Target:
    return Target(REFERENCE, "", "boto3", directory, clean_environment())


def floor_target(directory: Path) -> Target:
    (directory / f"{FLOOR_MODULE}.py").write_text('import boto3\nboto3.client("dynamodb", region_name="us-east-1")\n')
    return Target(FLOOR, "", FLOOR_MODULE, directory, clean_environment())


#: Also measured with the template's Tracing parameter Disabled (X-Ray's SDK not loaded).
UNTRACED = "WebhookFunction"
UNTRACED_SUFFIX = ", Tracing=Disabled"


def function_targets(tree: Tree) -> Iterator[Target]:
    """Each function as deployed with the template's defaults (Tracing Active: the X-Ray SDK is
    loaded at init), and the webhook function with Tracing Disabled too."""
    template = tree_template(tree.path)
    for logical_id, function in sorted(template.functions().items()):
        env = clean_environment() | function_environment(template, function, "dlrhub-bench-messages")
        env |= lambda_runtime_variables(function, template)
        env |= {"AWS_ENDPOINT_URL": UNUSED_ENDPOINT, "PYTHONPATH": str(tree.path / "layers" / "core")}
        target = Target(logical_id, tree.label, function.source.stem, function.source.parent, env)
        yield target
        if logical_id == UNTRACED:
            untraced = env | {"POWERTOOLS_TRACE_DISABLED": "true"}
            yield replace(target, label=logical_id + UNTRACED_SUFFIX, env=untraced)


def import_once(python: str, target: Target, *extra: str) -> subprocess.CompletedProcess[str]:
    reply = subprocess.run(
        [python, *extra, "-c", TIMED_IMPORT, target.module],
        cwd=target.directory,
        env=target.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if reply.returncode != 0:
        raise RuntimeError(f"importing {target.label} ({target.tree}) failed:\n{reply.stderr[-3000:]}")
    return reply


def import_ms(python: str, target: Target) -> float:
    return float(import_once(python, target).stdout.strip().splitlines()[-1])


def measure(trees: list[Tree], runs: int, python: str, *, warm: bool = True) -> dict[tuple[str, str], list[float]]:
    """(tree label, function) -> import times in ms; ("", "import boto3") is the reference.

    ``warm``: one untimed round first (bytecode caches written, files in the page cache).
    """
    with tempfile.TemporaryDirectory() as empty:
        references = [reference_target(Path(empty)), floor_target(Path(empty))]
        targets = references + [t for tree in trees for t in function_targets(tree)]
        for target in targets if warm else []:
            import_ms(python, target)
        times: dict[tuple[str, str], list[float]] = {(t.tree, t.label): [] for t in targets}
        shuffler = random.Random(20261125)
        for _ in range(runs):
            order = list(targets)
            shuffler.shuffle(order)
            for target in order:
                times[(target.tree, target.label)].append(import_ms(python, target))
    return times
