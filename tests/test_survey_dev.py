"""`survey dev` stops, with the UI and every process `dg dev` started (webserver, daemon, code servers),
when it is sent SIGTERM, SIGINT, or Ctrl-C at a terminal (SIGINT to its whole process group)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.processes import SURVEY, survey_env

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")]

STOPPED_WITHIN_S = 60  # survey dev's own bound is 30 s for dg dev, then a kill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _processes() -> dict[int, tuple[int, str]]:
    """Every process: pid → (parent pid, state)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            found[int(entry.name)] = (int(parent), state)
    return found


def _descendants(pid: int) -> set[int]:
    processes, found, frontier = _processes(), set(), {pid}
    while frontier:
        frontier = {p for p, (parent, _) in processes.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pids: set[int]) -> set[int]:
    """Those still running (a zombie whose new parent has not reaped it yet is not)."""
    processes = _processes()
    return {p for p in pids if p in processes and processes[p][1] not in ("Z", "X")}


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(("stop", "sigint_ignored"), [
    ("SIGTERM", False), ("SIGINT", False), ("Ctrl-C", False),
    # `survey dev &` in a script without job control: SIGINT inherited ignored, which `dagster dev`
    # would extend to SIGTERM.
    ("SIGTERM", True),
], ids=["SIGTERM", "SIGINT", "Ctrl-C", "SIGTERM-started-with-SIGINT-ignored"])
def test_survey_dev_stops_with_everything_it_started(stop, sigint_ignored, tmp_path):
    port = _free_port()
    log = tmp_path / "dev.log"
    # Output to a file: a pipe would fill while the UI runs, and reading it to its end would wait for every
    # process that inherited it. A session of its own, as a terminal's job control gives it.
    with open(log, "wb") as output:
        ui = subprocess.Popen([SURVEY, "dev", "--port", str(port), "--home", str(tmp_path / "home")],
                              env=survey_env(), stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                              preexec_fn=_ignore_sigint if sigint_ignored else None)
    started = set()
    try:
        deadline = time.monotonic() + 240
        while not _answers(port):
            assert ui.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the UI did not answer in time"
            time.sleep(1)
        started = _descendants(ui.pid)
        assert len(started) >= 3, started  # dg dev, and the webserver, daemon and code server it started

        if stop == "Ctrl-C":  # the terminal signals the foreground process group
            os.killpg(ui.pid, signal.SIGINT)
        else:
            ui.send_signal(getattr(signal, stop))
        try:
            ui.wait(timeout=STOPPED_WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"survey dev still running {STOPPED_WITHIN_S} s after {stop}")

        assert ui.returncode == 128 + (signal.SIGTERM if stop == "SIGTERM" else signal.SIGINT), log.read_text()
        assert _running(started) == set()
        assert not _answers(port)
        assert "Dagster services shut down." in log.read_text()  # dg dev's own orderly shutdown, not a kill
    finally:  # whatever is left, were the test to fail
        for pid in _running(started | {ui.pid}):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(ui.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            ui.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
