"""Over SSH: the terminal can vanish, and the console must leave at once (SIGHUP, or a dead tty without any
signal) without touching the daemon's jobs; the console runs here as its own process on a pseudo-terminal.
And `tapeconsole serve` offers it in a browser on localhost only."""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from console.cli.console_commands import add_console_commands
from tests.console.conftest import ROOT, Site


@dataclass
class Terminal:
    process: subprocess.Popen[bytes]
    master: int
    screen: bytearray

    def wait_for(self, text: bytes, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen:
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared on the terminal")

    def exited_within(self, seconds: float) -> float | None:
        start = time.monotonic()
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - start


@contextmanager
def console_on_a_pty(site: Site, *, controlling: bool) -> Iterator[Terminal]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))

    def become_session_leader_with_tty() -> None:
        if controlling:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "--config", str(site.config)],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True,
        preexec_fn=become_session_leader_with_tty,
    )
    os.close(slave)
    terminal = Terminal(process, master, bytearray())

    def drain() -> None:  # a terminal that is read, as a real one is
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            terminal.screen.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    try:
        yield terminal
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        try:
            os.close(master)
        except OSError:
            pass


@pytest.fixture(scope="module")
def writing(site: Site) -> dict:
    """slow-vdi writing on lto4 (3 MB/s) while the consoles come and go."""
    run = site.post("/jobs/slow-vdi/run")
    deadline = time.monotonic() + 30
    while not site.run(run["id"])["tape"] and time.monotonic() < deadline:
        time.sleep(0.1)
    return run


def test_sighup_closes_the_console_and_leaves_the_job_running(site: Site, writing: dict) -> None:
    with console_on_a_pty(site, controlling=True) as terminal:
        terminal.wait_for(b"slow-vdi")
        terminal.process.send_signal(signal.SIGHUP)
        took = terminal.exited_within(3)
        assert took is not None, "the console kept running after SIGHUP"
        assert terminal.process.returncode == 0, "killed by the signal instead of leaving cleanly"
    assert site.run(writing["id"])["state"] == "running"


def test_a_dead_terminal_closes_the_console_without_any_signal(site: Site, writing: dict) -> None:
    with console_on_a_pty(site, controlling=False) as terminal:
        terminal.wait_for(b"slow-vdi")
        os.close(terminal.master)  # the SSH connection is gone; no SIGHUP reaches a process without a ctty
        took = terminal.exited_within(3)
        assert took is not None, "the console kept running on a dead terminal"
        assert terminal.process.returncode == 0
    assert site.run(writing["id"])["state"] == "running"
    site.post(f"/runs/{writing['id']}/cancel")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_listens_on_localhost_only_and_serves_the_console(site: Site) -> None:
    parser = argparse.ArgumentParser()
    add_console_commands(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--host", "0.0.0.0"])
    port = free_port()
    script = ("import sys, argparse; from console.config.loading import load_config; "
              "from console.cli.console_commands import CONSOLE_COMMANDS; "
              f"sys.exit(CONSOLE_COMMANDS['serve'](load_config({str(site.config)!r}), "
              f"argparse.Namespace(command='serve', host='localhost', port={port})))")
    server = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200 and "tapeconsole" in page.text
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert b"no authentication of its own" in err
