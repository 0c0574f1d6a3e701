"""The single-writer lock of the working database: one process at a time writes it.

DuckDB refuses a second writing process outright, so writers queue here instead of failing. The lock is
an operating-system file lock (``flock``, through the ``filelock`` library): the kernel releases it when
its holder ends, however it ends (SIGKILL included), so there is never a stale lock to clean up. It is
re-entrant within a process, so a command that holds it for a whole refresh can run Dagster steps that
take it again.

What does not belong here: which database the lock protects, or how it is opened (``warehouse.connection``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


class WarehouseBusy(RuntimeError):
    """Another process kept the working database for longer than the caller would wait."""


def _lock(path: Path) -> FileLock:
    # One instance per path in this process (is_singleton), shared by every thread, so that re-entry
    # counts instead of deadlocking on a second descriptor of the same file. No soft-lock fallback: a
    # soft lock would outlive a killed holder.
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path, is_singleton=True, thread_local=False, fallback_to_soft=False, preserve_lock_file=True)


def _holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".holder")


def current_holder(lock_path: Path) -> str:
    """Who took the lock last, as that process wrote it: pid, command and time."""
    try:
        return _holder_path(lock_path).read_text(encoding="utf-8").strip() or "an unknown process"
    except FileNotFoundError:
        return "an unknown process"


@contextmanager
def writer_lock(
    lock_path: Path,
    *,
    timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the working database's writer lock for the block.

    Waits while another process holds it (``on_wait`` is told who, once); raises ``WarehouseBusy`` after
    ``timeout_s`` seconds, or never when it is None.
    """
    lock = _lock(Path(lock_path))
    if lock.is_locked:  # held by this process already: count the re-entry
        with lock:
            yield
        return
    try:
        lock.acquire(blocking=False)
    except Timeout:
        holder = current_holder(lock_path)
        if on_wait:
            on_wait(holder)
        try:
            lock.acquire(timeout=-1 if timeout_s is None else timeout_s)
        except Timeout:
            raise WarehouseBusy(
                f"the working database is still being written by {holder} after {timeout_s:.0f} s "
                f"(lock {lock_path}); try again when that run has finished"
            ) from None
    try:
        command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:3]))
        since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        _holder_path(lock_path).write_text(f"pid {os.getpid()} ({command}), since {since}\n", encoding="utf-8")
        yield
    finally:
        lock.release()
