"""What the step running in this process is doing, for a person watching a terminal.

`survey run` and `survey ingest` install a reporter when their output is a terminal; steps say which
stage of a wave they reach (reading, validating, loading, indicators, publishing) with the rows done so
far, so that a wave of a million rows is not a silent minute. With no reporter (CI, cron, the Dagster
daemon and UI) reports go nowhere. Reports carry counts and stage names only, never a value read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Reporter = Callable[[str, str, "int | None"], None]  # (what: a wave or a survey, stage, rows done)
_reporter: Reporter | None = None


def report(what: str, stage: str, rows: int | None = None) -> None:
    if _reporter is not None:
        _reporter(what, stage, rows)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send this process's reports to ``reporter`` for the block (None: keep them quiet)."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous
