"""Where the warm handler's time goes per report: ``cProfile`` over extra reports (runs in a runner).

The profiler slows every Python call, so its milliseconds are larger than the timed figures; the
shares are what to read. Time blocked on the socket (``recv_into``/``sendall`` of the DynamoDB
and Secrets Manager connections) is DynamoDB Local's answer plus loopback: the rest is the
handler's own work in Python.
"""

from __future__ import annotations

import cProfile
import pstats
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

SOCKET_WAITS = ("recv_into", "recv", "sendall", "send")


def profiled(calls: list[Callable[[], Any]]) -> pstats.Stats:
    """Only the calls are profiled: their arguments are built beforehand."""
    profiler = cProfile.Profile()
    profiler.enable()
    for call in calls:
        call()
    profiler.disable()
    return pstats.Stats(profiler)


def label(filename: str, line: int, function: str, roots: tuple[Path, ...]) -> str:
    if filename == "~":
        return function
    path = filename
    stdlib = sysconfig.get_paths()["stdlib"]
    if path.startswith(stdlib + "/"):
        return f"stdlib/{path[len(stdlib) + 1 :]}:{line}({function})"
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    else:
        for root in roots:
            if Path(path).is_relative_to(root):
                path = str(Path(path).relative_to(root))
                break
    return f"{path}:{line}({function})"


def summarize(stats: pstats.Stats, count: int, roots: tuple[Path, ...], top: int = 25) -> dict[str, Any]:
    """Per report: total profiled time, time blocked on sockets, the top functions (cumulative and own)."""
    rows = []
    socket = total = 0.0
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += own
        if filename == "~" and any(f"'{name}' of '_socket.socket'" in function for name in SOCKET_WAITS):
            socket += own
        rows.append(
            (label(filename, line, function, roots), calls / count, own * 1000 / count, cumulative * 1000 / count)
        )
    rows = [row for row in rows if not row[0].startswith(("tools/dlrhub_measure/", "<lambda>"))]  # the harness
    by_cumulative = sorted(rows, key=lambda row: row[3], reverse=True)[:top]
    by_own = sorted(rows, key=lambda row: row[2], reverse=True)[:top]
    return {
        "reports": count,
        "total_ms": total * 1000 / count,
        "socket_ms": socket * 1000 / count,
        "top_cumulative": by_cumulative,
        "top_own": by_own,
    }
