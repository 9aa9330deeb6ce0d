"""Source trees under measurement, and the runner subprocess that measures one of them.

A tree is a checkout of this repository (this one, or ``--baseline PATH``). Its code runs only in
subprocesses whose ``PYTHONPATH`` puts its ``layers/core`` and ``local`` first; the harness (this
``bench`` package and ``tests.support``) comes from this checkout.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lambda_env import DUMMY_CREDENTIALS

HARNESS = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Tree:
    label: str
    path: Path

    @property
    def pythonpath(self) -> str:
        return os.pathsep.join(str(self.path / part) for part in ("layers/core", "local"))

    def revision(self) -> str:
        """``branch@commit`` (and ``+changes`` when the work tree differs from it)."""
        git = ["git", "-C", str(self.path)]
        try:
            commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
            branch = subprocess.run([*git, "branch", "--show-current"], capture_output=True, text=True, timeout=10)
            dirty = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown revision"
        name = branch.stdout.strip() or "detached"
        return f"{name}@{commit.stdout.strip()}" + (" +changes" if dirty.stdout.strip() else "")


def clean_environment() -> dict[str, str]:
    """What a runner inherits: no AWS profile or endpoint of ours, dummy keys, no bytecode writes kept."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME", "PYENV_VERSION", "PYENV_ROOT")
    return {key: os.environ[key] for key in keep if key in os.environ} | DUMMY_CREDENTIALS


class Runner:
    """``python -m bench.runner PART`` on one tree; results as JSON lines, commands on stdin."""

    def __init__(self, tree: Tree, part: str, config: dict[str, Any], *, python: str | None = None) -> None:
        self.tree = tree
        self.part = part
        read, write = os.pipe()
        self._log = tempfile.NamedTemporaryFile(prefix=f"bench-{part}-", suffix=".log", delete=False)  # noqa: SIM115
        env = clean_environment() | {"PYTHONPATH": os.pathsep.join([tree.pythonpath, str(HARNESS)])}
        args = json.dumps({**config, "tree": str(tree.path), "results_fd": write})
        self.process = subprocess.Popen(
            [python or sys.executable, "-m", "bench.runner", part, args],
            cwd=HARNESS,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            pass_fds=(write,),
            start_new_session=True,
            text=True,
        )
        os.close(write)
        self._read = read
        self._buffer = b""
        self._closed = False

    def receive(self, timeout: float) -> dict[str, Any]:
        """The runner's next result line; raises with its log's tail if it fails or takes longer."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError(f"{self.part} on {self.tree.label}: no result in {timeout:.0f} s\n{self.log_tail()}")
            ready, _, _ = select.select([self._read], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                self.process.wait(10)
                raise RuntimeError(
                    f"{self.part} on {self.tree.label} ended (exit {self.process.returncode}) without a result\n"
                    f"{self.log_tail()}"
                )
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def command(self, word: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(word + "\n")
        self.process.stdin.flush()

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not self._closed:
            self._closed = True
            os.close(self._read)
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)
        self.stop()


def run_once(
    tree: Tree, part: str, config: dict[str, Any], timeout: float, python: str | None = None
) -> dict[str, Any]:
    """A part that answers with one result."""
    with Runner(tree, part, config, python=python) as runner:
        return runner.receive(timeout)
