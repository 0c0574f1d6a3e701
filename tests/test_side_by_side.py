"""Two surveys refreshing at once, as separate processes: one survey's load is held open (``SURVEY_TEST_PAUSE_AT``)
while the other survey's ingest runs from start to end. Each survey has its own working database and writer lock,
so the second never waits for the first; the analysts' warehouse, combined from both surveys' snapshots, gets
both updates, and an analyst's connection opened before either stays usable throughout."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from sample_data.generator import LANDING_DIR
from tests.conftest import SURVEY_ID, sample_wave_path
from tests.processes import run_survey, start_survey, survey_env, wait_for_file
from warehouse.stop_points import PAUSE_AT_ENV, STOP_FILE_ENV

pytestmark = pytest.mark.processes
STAFF = "staff-pulse"


def _land(home, survey_id: str, wave_id: str) -> None:
    shutil.copytree(LANDING_DIR / survey_id / wave_id, home / "landing" / survey_id / wave_id)


def _waves(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    return {(s, w): n for s, w, n in con.execute(
        "SELECT survey_id, wave_id, count(*) FROM respondents GROUP BY ALL").fetchall()}


def _published_waves(home) -> set[tuple[str, str]]:
    """The waves a new analyst sees, asked in a process of its own (`survey sql`): in this process DuckDB would
    hand back the database the open connection already holds."""
    import json

    result = run_survey(home, "sql", "SELECT DISTINCT survey_id, wave_id FROM respondents", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return {(row["survey_id"], row["wave_id"]) for row in json.loads(result.stdout)}


def _load_span(instance, survey_id: str, wave_id: str) -> tuple[float, float]:
    """When the wave's load step (``wave_responses``) started and ended, from the run's event log."""
    import dagster as dg

    [record] = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": f"{survey_id}/{wave_id}"}))
    [step] = [s for s in instance.get_run_step_stats(record.dagster_run.run_id) if s.step_key == "wave_responses"]
    return step.start_time, step.end_time


def test_two_surveys_load_side_by_side_without_waiting_and_analysts_get_both(tmp_path):
    import dagster as dg

    env = survey_env(SURVEY_SETTLE_SECONDS="0", SURVEY_BRIEF_PDF="false")
    _land(tmp_path, SURVEY_ID, "2023")
    _land(tmp_path, STAFF, "2025Q4")
    first = run_survey(tmp_path, "run", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    warehouse = tmp_path / "warehouse" / "survey.duckdb"
    analyst = duckdb.connect(str(warehouse), read_only=True)  # connected throughout
    before = _waves(analyst)
    assert set(before) == {(SURVEY_ID, "2023"), (STAFF, "2025Q4")}

    # The staff pulse's refresh, held in the middle of loading its wave, its writer lock held.
    _land(tmp_path, STAFF, "2026Q1")
    marker = tmp_path / "paused"
    staff = start_survey(tmp_path, "run", env={**env, PAUSE_AT_ENV: "load", STOP_FILE_ENV: str(marker)})
    try:
        wait_for_file(marker, staff)
        # The board survey's ingest, start to end, while the staff pulse's load is open.
        board = run_survey(tmp_path, "ingest", str(sample_wave_path("2024")), "--survey", SURVEY_ID, "--wave", "2024",
                           env=env)
        assert board.returncode == 0, board.stdout + board.stderr
        assert staff.poll() is None and marker.exists()  # still holding its load open
        assert _waves(analyst) == before  # the old warehouse, still readable by the open connection
        assert _published_waves(tmp_path) == {(SURVEY_ID, "2023"), (SURVEY_ID, "2024"), (STAFF, "2025Q4")}
    finally:
        marker.unlink(missing_ok=True)
        output = staff.communicate(timeout=300)[0]
    assert staff.returncode == 0, output
    assert "Waiting" not in board.stdout and "Waiting" not in output  # neither waited for the other's lock

    assert _published_waves(tmp_path) == {(SURVEY_ID, "2023"), (SURVEY_ID, "2024"), (STAFF, "2025Q4"), (STAFF, "2026Q1")}
    assert _waves(analyst) == before
    analyst.close()

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        staff_start, staff_end = _load_span(instance, STAFF, "2026Q1")
        board_start, board_end = _load_span(instance, SURVEY_ID, "2024")
    # The board survey's load ran start to end inside the staff pulse's.
    assert staff_start < board_start < board_end < staff_end
