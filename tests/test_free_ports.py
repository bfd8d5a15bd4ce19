"""Ports chosen for processes started later: outside the kernel's range for outgoing connections
(where the suite's own connections could take them before the child binds), never handed out
twice by one process, and a slice of their own for each pytest-xdist worker."""

from __future__ import annotations

import socket

import pytest

from platformctl import supervisor
from platformctl.supervisor import free_port


def test_ports_are_outside_the_ephemeral_range_and_not_repeated() -> None:
    low = supervisor._ephemeral_low()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(supervisor.FREE_PORTS_FROM <= port < low for port in ports)
    with socket.socket() as sock:  # and free to bind
        sock.bind(("127.0.0.1", ports[-1]))


def test_a_bound_port_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        monkeypatch.setattr(supervisor, "_port_slice", lambda: range(port, port + 2))
        monkeypatch.setattr(supervisor, "_handed_out", set())
        assert all(free_port() != port for _ in range(5))  # then the slice is used up: any free port
    finally:
        taken.close()


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_each_worker_draws_from_a_slice_of_its_own(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    slices = []
    for worker in range(workers):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
        slices.append(set(supervisor._port_slice()))
    for index, ours in enumerate(slices):
        assert len(ours) >= 1000
        assert all(not ours & theirs for theirs in slices[index + 1 :])
