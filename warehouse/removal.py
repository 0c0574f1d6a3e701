"""Withdrawing a wave from the working database: every row of it goes, in one transaction, and the
removal is recorded in ``wave_removals`` (who, when, why, which loads) first; its private values (a second
file, a second transaction) go right after, as the rows of a wave with no load.

What does not belong here: moving its files out of the landing folder (``pipelines.waves``), and
publishing the warehouse without it (the steps across waves, run afterwards).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.connection import WAVE_RESULT_TABLES, read_sql, transaction
from warehouse.load import WAVE_TABLES, remove_private_rows_of_other_loads

# Every table holding rows of one wave, but for the dimensions (rewritten from the codebooks) and the
# history of publications. Names are fixed here, never taken from input, so they may be placed in SQL.
WAVE_ROW_TABLES = (*WAVE_TABLES, *WAVE_RESULT_TABLES, "wave_results", "load_log")


def remove_wave(
    con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, removed_by: str, reason: str,
    archived_to: str | None, removed_at: dt.datetime | None = None,
) -> int:
    """Record the removal and delete the wave's rows; returns the respondents it held."""
    params = {"survey_id": survey_id, "wave_id": wave_id}
    with transaction(con):
        con.execute(read_sql("record_wave_removal"), {
            **params, "removed_at": removed_at or dt.datetime.now(dt.UTC), "removed_by": removed_by,
            "reason": reason, "archived_to": archived_to})
        respondents = con.execute(
            "SELECT respondents FROM wave_removals WHERE survey_id = $survey_id AND wave_id = $wave_id "
            "ORDER BY removed_at DESC LIMIT 1", params).fetchone()[0]
        for table in WAVE_ROW_TABLES:
            con.execute(f"DELETE FROM {table} WHERE survey_id = $survey_id AND wave_id = $wave_id", params)
        # Trends are computed again by the next publication; none may point at the wave meanwhile.
        con.execute("DELETE FROM indicator_trends WHERE survey_id = $survey_id "
                    "AND (wave_id = $wave_id OR previous_wave_id = $wave_id)", params)
        # Its rows stay in the file's free blocks until the file is rebuilt, before its next publication.
        con.execute("INSERT INTO rebuild_reasons VALUES ($reason, now())", {"reason": f"{survey_id}/{wave_id} withdrawn"})
    remove_private_rows_of_other_loads(con)
    return respondents
