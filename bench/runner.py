"""``python -m bench.runner PART CONFIG``: one part of the benchmark, run on one source tree.

Started by :mod:`bench.trees` with ``PYTHONPATH=TREE/layers/core:TREE/local:HARNESS`` so that
``dlrhub`` and ``dlrhub_local`` are the measured tree's while ``bench`` and ``tests`` are this
harness's. Results go back as JSON lines on the file descriptor ``CONFIG["results_fd"]``; the
parent's commands (poller cases) come on stdin. The tree's handlers log to stdout, which the
parent keeps in a file (the warm path counts its bytes itself).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO


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
    part, config = argv[0], json.loads(argv[1])
    tree = Path(config["tree"])
    check_tree(tree)
    with os.fdopen(config["results_fd"], "w") as results:
        channel = Channel(results, sys.stdin)
        if part == "write-units":
            from bench import write_units

            messages = config.get("scorecard_messages", 1200)
            channel.send(**write_units.measure(tree, config["dynamodb"], config["moto"], config["accounts"], messages))
        elif part == "warm-path":
            from bench import warm_path

            channel.send(**warm_path.measure(tree, config))
        elif part == "scale":
            from bench import scale_checks

            channel.send(**scale_checks.measure(tree, config))
        elif part == "poller":
            from bench import poller_cases

            poller_cases.run(tree, config, channel)
        else:
            raise SystemExit(f"unknown part {part!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
