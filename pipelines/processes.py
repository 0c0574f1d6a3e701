"""Running a long-lived command as a child that stops, with everything it started, when `survey` is told to.

`survey dev` runs `dg dev`, which runs the Dagster webserver, the daemon and the code servers as its own
children, and shuts them down in order when it receives SIGINT or SIGTERM. Two things get in the way:

- a command started from a script without job control inherits SIGINT *ignored*, and `dagster dev` maps
  SIGTERM to whatever SIGINT does, so it would ignore both; and
- a signal sent to `survey` alone (``kill <pid>``, a supervisor) stops `survey` and leaves the UI running.

So the child is started in a session of its own, with its stop signals at their defaults, and `survey`
forwards the stop signal it receives to it, waits a bounded time for it to shut its services down, then
kills whatever is left of its process group (all of `dg dev`'s processes: Dagster starts none in a
session of its own on POSIX).

What does not belong here: which command is run and its environment (``pipelines.cli``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# `dagster dev` waits up to a minute for each of its services; they usually stop in a few seconds.
STOP_GRACE_S = 30.0
KILL_WAIT_S = 5.0  # for each step of ending what the leader left: waiting, SIGTERM, SIGKILL


def run_until_stopped(command: Sequence[str], grace_s: float = STOP_GRACE_S, **popen) -> int:
    """Run ``command`` until it ends, or until this process receives SIGINT, SIGTERM or SIGHUP; then
    stop it and everything it started. Returns its exit code, or 128 + the signal's number when stopped
    by one (as a shell reports it)."""
    received: list[int] = []

    def stop(signum, _frame) -> None:
        received.append(signum)

    # Our own handlers, set before the child starts: an exec resets handled signals to their defaults,
    # where an ignored one would stay ignored in the child.
    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        child = subprocess.Popen(list(command), start_new_session=True, **popen)
        try:
            while not received:
                try:
                    code = child.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    continue
            else:
                stop_process_group(child, received[0], grace_s)
                code = 128 + received[0]
        finally:
            if child.poll() is None:  # an error of our own while waiting: leave nothing behind
                stop_process_group(child, signal.SIGTERM, grace_s)
            _end_group(child.pid, KILL_WAIT_S)  # whatever its services left, had it ended on its own
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return code


def stop_process_group(child: subprocess.Popen, signum: int, grace_s: float) -> None:
    """Send ``signum`` to the group's leader, which shuts its services down in order; kill the whole group
    if the leader is still running after ``grace_s`` seconds, and end what it left behind."""
    try:
        child.send_signal(signum)
    except ProcessLookupError:
        pass
    try:
        child.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        _signal_group(child.pid, signal.SIGKILL)
        child.wait()
    _end_group(child.pid, KILL_WAIT_S)


def _end_group(pgid: int, wait_s: float) -> None:
    """Wait for the rest of the process group to end, SIGTERM it, and SIGKILL what still remains."""
    for signum in (None, signal.SIGTERM, signal.SIGKILL):
        if signum is not None:
            _signal_group(pgid, signum)
        deadline = time.monotonic() + wait_s
        while _group_alive(pgid):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        else:
            return


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running. A zombie is not: an orphan whose new parent does
    not reap it (PID 1 of some containers) would otherwise hold the wait to its end."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after it
                state, _ppid, pgrp = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
            except (OSError, ValueError, IndexError):
                continue
            if int(pgrp) == pgid and state not in ("Z", "X"):
                return True
    return False
