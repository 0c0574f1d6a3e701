"""A test-only hook that holds a run still at a named stage, so a test can kill it exactly there.

Crash-safety tests need to SIGKILL a run in the middle of a given stage (ingest, validation, warehouse
load, indicators, publish, combining the surveys' snapshots, and the rebuild of the working file) without guessing with sleeps. When ``SURVEY_TEST_STOP_AT`` names the stage
reached, the process writes the stage's name to the file ``SURVEY_TEST_STOP_FILE`` and waits there until
it is killed. When the variable is unset (always, outside tests) ``stop_point`` does nothing.

``SURVEY_TEST_PAUSE_AT`` holds a run at a stage the same way, but only until the test removes the file: a
test of two surveys refreshing side by side holds one survey's load open while the other's runs from start to
end.

These variables are read here, where the run stops, and not by the settings (``home.settings``): they
are a hook for tests alone, set in the environment of the process a test is about to kill, and passing
them down would thread a test hook through every step's signature.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

STOP_AT_ENV = "SURVEY_TEST_STOP_AT"
STOP_FILE_ENV = "SURVEY_TEST_STOP_FILE"
PAUSE_AT_ENV = "SURVEY_TEST_PAUSE_AT"

# In the order a refresh reaches them.
# "combine": the survey's snapshot published, the analysts' warehouse combined from the snapshots not yet renamed.
STAGES = ("ingest", "validation", "load", "indicators", "publish", "combine")
# Reached only by a refresh that publishes after rows were deleted: the rebuilt working file complete, not yet
# renamed over the old one.
REBUILD = "rebuild"


def stop_point(stage: str) -> None:
    if stage not in (*STAGES, REBUILD):
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join((*STAGES, REBUILD))}")
    if os.environ.get(PAUSE_AT_ENV) == stage:
        marker = Path(os.environ[STOP_FILE_ENV])
        marker.write_text(stage, encoding="utf-8")
        while marker.exists():  # until the test removes it
            time.sleep(0.05)
        return
    if os.environ.get(STOP_AT_ENV) != stage:
        return
    marker = Path(os.environ[STOP_FILE_ENV])
    marker.write_text(stage, encoding="utf-8")
    while True:  # until the test kills the process
        time.sleep(3600)
