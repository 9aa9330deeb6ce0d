"""The one runner: a measured tree's code in a subprocess of its own.

A tree is a checkout of this repository (this one, or ``--baseline PATH``). Its code runs only in
``python -m dlrhub_measure.runner MODULE CONFIG``, with ``PYTHONPATH`` putting the tree's
``layers/core`` and ``local`` first, so ``dlrhub`` and ``dlrhub_local`` are the tree's while
``dlrhub_measure`` and ``tests`` are this checkout's. ``MODULE`` is a part of the harness (e.g.
``dlrhub_measure.bench.warm_path``) whose ``run(tree, config, channel)`` measures; results go back
as JSON lines on the file descriptor ``CONFIG["results_fd"]``, the parent's commands come on stdin,
and the tree's handlers print to a log file the parent keeps.

Only trees with the core in sub-packages (``dlrhub.table.messages``, ``dlrhub.services.poller``…,
since commit 3caf1fe) can be measured: :func:`checkout` refuses any other.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from dlrhub_measure.aws import DUMMY_CREDENTIALS

HARNESS = Path(__file__).resolve().parents[2]
#: A module every measurable tree has: the core laid out in sub-packages.
LAYOUT_MARK = Path("layers/core/dlrhub/table/messages.py")


def checkout(text: str) -> Path:
    """``--baseline PATH``: a checkout of this repository with the core's current layout."""
    path = Path(text).resolve()
    if not (path / "template.yaml").is_file():
        raise argparse.ArgumentTypeError(f"{path} is not a checkout of this repository")
    if not (path / LAYOUT_MARK).is_file():
        raise argparse.ArgumentTypeError(f"{path} has no {LAYOUT_MARK}: a tree from before commit 3caf1fe")
    return path


def arguments(prog: str, description: str, *, baseline: bool = True) -> argparse.ArgumentParser:
    """A command's options ``--short`` and ``--baseline PATH``; it adds its own."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    parser.add_argument("--short", action="store_true", help="tiny sizes (CI: proves the instrument works)")
    if baseline:
        parser.add_argument(
            "--baseline",
            type=checkout,
            metavar="PATH",
            help="another checkout of this repository, measured in the same run; only trees whose core is in"
            " sub-packages (dlrhub.table.messages, as since commit 3caf1fe; older figures were measured apart)",
        )
    return parser


@dataclass(frozen=True)
class Tree:
    label: str
    path: Path

    @property
    def pythonpath(self) -> str:
        return os.pathsep.join(str(self.path / part) for part in ("layers/core", "local"))

    def revision(self) -> str:
        """``branch@commit`` (and ``+changes`` when the work tree differs from it)."""
        asked = (("rev-parse", "--short", "HEAD"), ("branch", "--show-current"), ("status", "--porcelain"))
        try:
            commit, branch, dirty = (
                subprocess.run(["git", "-C", str(self.path), *words], capture_output=True, text=True, timeout=10).stdout
                for words in asked
            )
        except (OSError, subprocess.TimeoutExpired):
            return "unknown revision"
        return f"{branch.strip() or 'detached'}@{commit.strip()}" + (" +changes" if dirty.strip() else "")


def trees(baseline: Path | None) -> list[Tree]:
    """The baseline (if any) as "before", then this checkout as "after"."""
    return [*([Tree("before", baseline)] if baseline else []), Tree("after", HARNESS)]


def clean_environment() -> dict[str, str]:
    """What a subprocess inherits: no AWS profile or endpoint of ours, dummy keys."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME", "PYENV_VERSION", "PYENV_ROOT")
    return {key: os.environ[key] for key in keep if key in os.environ} | DUMMY_CREDENTIALS


# -- the parent's side ------------------------------------------------------------------------------


class Runner:
    """``module.run`` on one tree in a subprocess; results as JSON lines, commands on stdin."""

    def __init__(self, tree: Tree, module: str, config: dict[str, Any], *, python: str | None = None) -> None:
        self.tree = tree
        self.part = module.rsplit(".", 1)[-1]
        read, write = os.pipe()
        self._log = tempfile.NamedTemporaryFile(prefix=f"measure-{self.part}-", suffix=".log", delete=False)  # noqa: SIM115
        pythonpath = os.pathsep.join([tree.pythonpath, str(HARNESS / "tools"), str(HARNESS)])
        args = json.dumps({**config, "tree": str(tree.path), "results_fd": write})
        self.process = subprocess.Popen(
            [python or sys.executable, "-m", "dlrhub_measure.runner", module, args],
            cwd=HARNESS,
            env=clean_environment() | {"PYTHONPATH": pythonpath},
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
        return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])

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
    tree: Tree, module: str, config: dict[str, Any], timeout: float, python: str | None = None
) -> dict[str, Any]:
    """A part that answers with one result."""
    with Runner(tree, module, config, python=python) as runner:
        return runner.receive(timeout)


# -- the subprocess's side ----------------------------------------------------------------------------


class Channel:
    """Results to the parent (one JSON object a line), commands from it (one word a line)."""

    def __init__(self, results: TextIO, commands: TextIO) -> None:
        self._results = results
        self._commands = commands

    def send(self, **values: Any) -> None:
        self._results.write(json.dumps(values) + "\n")
        self._results.flush()

    def wait_for(self, word: str) -> None:
        line = self._commands.readline().strip()
        if line != word:
            raise RuntimeError(f"expected the command {word!r}, got {line!r}")


def check_tree(tree: Path) -> None:
    """The measured code is the tree's, not the harness's (the editable install comes last on the path)."""
    import dlrhub
    import dlrhub_local

    for module in (dlrhub, dlrhub_local):
        if not Path(module.__file__ or "").resolve().is_relative_to(tree.resolve()):
            raise RuntimeError(f"{module.__name__} comes from {module.__file__}, not from {tree}")


def main(argv: list[str]) -> int:
    module, config = argv[0], json.loads(argv[1])
    tree = Path(config["tree"])
    check_tree(tree)
    with os.fdopen(config["results_fd"], "w") as results:
        importlib.import_module(module).run(tree, config, Channel(results, sys.stdin))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
