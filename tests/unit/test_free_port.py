"""free_port: a port for a server that binds it later, which no bind to port 0 can take meanwhile."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dlrhub_local.processes import LOOPBACK, PORTS_FROM, ephemeral_ports, free_port


def test_the_port_is_below_the_kernels_ephemeral_range_and_free() -> None:
    ephemeral = ephemeral_ports()
    for _ in range(50):
        port = free_port()
        assert PORTS_FROM <= port < ephemeral.start
        with socket.socket() as sock:
            sock.bind((LOOPBACK, port))  # free: the server can take it


def test_no_bind_to_port_zero_gets_a_port_handed_out() -> None:
    """What CI saw: a simulator's bind(0) took the port just handed to DynamoDB Local."""
    handed = {free_port() for _ in range(20)}
    sockets = [socket.socket() for _ in range(200)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        assert not handed & {sock.getsockname()[1] for sock in sockets}
    finally:
        for sock in sockets:
            sock.close()


def test_never_the_same_port_twice() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)


def test_a_port_in_use_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = socket.socket()
    taken.bind((LOOPBACK, 0))
    taken.listen()
    busy = taken.getsockname()[1]
    draws = iter([busy, busy + 1 if busy + 1 < 65536 else busy - 1])

    class Fixed:
        def randrange(self, start: int, stop: int) -> int:
            return next(draws)

    monkeypatch.setattr("dlrhub_local.processes.random.SystemRandom", Fixed)
    monkeypatch.setattr("dlrhub_local.processes.ephemeral_ports", lambda: range(65536, 65537))
    try:
        assert free_port() != busy
    finally:
        taken.close()


def test_the_range_where_the_kernel_does_not_say(tmp_path: Path) -> None:
    assert ephemeral_ports(tmp_path / "absent") == range(49152, 65536)
    given = tmp_path / "range"
    given.write_text("32768\t60999\n")
    assert ephemeral_ports(given) == range(32768, 61000)
