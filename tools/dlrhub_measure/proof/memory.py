"""Resident memory (RSS) of the local stack's processes, read from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def rss_mb(pid: int) -> float | None:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _parent(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def label(pid: int, root: int) -> str:
    command = _cmdline(pid)
    if pid == root:
        return "stack"
    if "DynamoDBLocal.jar" in command:
        return "DynamoDB Local"
    if "moto.server" in command:
        return "moto"
    return command.split(" ", 1)[0].rsplit("/", 1)[-1] or str(pid)


def tree(root: int) -> list[int]:
    """``root`` and every process below it (children, grandchildren, …)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (parent := _parent(int(entry.name))) is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo and len(found) < 1000:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def sample(roots: list[int]) -> dict[str, float]:
    """label -> RSS in MB of every process of the trees under ``roots`` (the stack, engines started apart)."""
    found: dict[str, float] = {}
    for root in roots:
        for pid in tree(root):
            mb = rss_mb(pid)
            if mb is not None:
                name = label(pid, roots[0])
                found[name] = found.get(name, 0.0) + mb
    return found
