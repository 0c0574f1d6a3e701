"""Read-only queries behind the tables printed for people: the headline table and the trend table."""

from __future__ import annotations

import duckdb
import pandas as pd

from warehouse.connection import read_sql


def headline_table(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> pd.DataFrame:
    return con.execute(read_sql("headline_table"), {"survey_id": survey_id, "wave_id": wave_id}).df()


def headline_trends(con: duckdb.DuckDBPyConnection, survey_id: str) -> pd.DataFrame:
    return con.execute(read_sql("headline_trends"), {"survey_id": survey_id}).df()


def loaded_waves(con: duckdb.DuckDBPyConnection, survey_id: str) -> list[str]:
    rows = con.execute(
        """SELECT DISTINCT h.wave_id, w.wave_order FROM headline_indicators AS h
           JOIN waves AS w USING (survey_id, wave_id) WHERE h.survey_id = ? ORDER BY w.wave_order""",
        [survey_id],
    ).fetchall()
    return [r[0] for r in rows]


def load_report(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, run_id: str) -> dict:
    """What one run loaded for a wave: its files from the load log, and quarantined rows by rule."""
    params = {"survey_id": survey_id, "wave_id": wave_id, "run_id": run_id}
    files = con.execute(
        """SELECT source_file, layout, encoding, rows_read, rows_loaded, rows_quarantined, duplicate_of, archived_as
           FROM load_log WHERE survey_id = $survey_id AND wave_id = $wave_id AND run_id = $run_id
           ORDER BY source_file""", params).df()
    by_rule = con.execute(
        """SELECT rule, count(DISTINCT (source_file, source_row)) AS rows FROM private.quarantine
           WHERE survey_id = $survey_id AND wave_id = $wave_id AND run_id = $run_id
           GROUP BY rule ORDER BY rows DESC, rule""", params).fetchall()
    return {"files": files, "quarantined_by_rule": by_rule}


def latest_loads(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    """The latest load of each wave (run, time, rows read / loaded / quarantined), by (survey, wave)."""
    frame = con.execute(read_sql("latest_loads")).df()
    return {(r["survey_id"], r["wave_id"]): r for r in frame.to_dict("records")}


def wave_removals(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    """The latest withdrawal of each wave withdrawn, by (survey, wave)."""
    frame = con.execute("SELECT * FROM wave_removals QUALIFY removed_at = max(removed_at) OVER "
                        "(PARTITION BY survey_id, wave_id)").df()
    return {(r["survey_id"], r["wave_id"]): r for r in frame.to_dict("records")}
