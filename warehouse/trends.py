"""Trends across waves: each indicator beside the previous wave, the change, and whether it is significant.

Pairs of waves are formed in SQL (``warehouse/sql/indicator_pairs.sql``); the significance test is
statsmodels' pooled two-proportion z-test. Only shares are tested: counts are not proportions, and
coverage is a census of trusts, not a sample. A share whose question was reworded, or whose options
changed, between the two waves is marked not comparable, with no change reported.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from schemas.codebook import Codebook
from warehouse.connection import read_sql, transaction
from warehouse.statistics import two_proportion_p_value

TREND_COLUMNS = [
    "survey_id", "indicator_id", "wave_id", "previous_wave_id", "value", "previous_value",
    "change", "comparable", "p_value", "significant", "note",
]
NOT_COMPARABLE = "question changed between these waves (wording or options): not comparable"


def _comparable(row, codebook: Codebook) -> bool:
    if row.previous_wave_id is None or pd.isna(row.previous_wave_id) or row.indicator_kind != "share":
        return True
    return codebook.comparable(row.question_id, row.previous_wave_id, row.wave_id)


def _test_change(row, comparable: bool, significance_level: float) -> tuple[float, bool | None, str | None]:
    if row.previous_wave_id is None or pd.isna(row.previous_wave_id):
        return np.nan, None, "first wave with data"
    if not comparable:
        return np.nan, None, NOT_COMPARABLE
    if row.indicator_kind == "count":
        return np.nan, None, "a count: change not tested"
    if row.indicator_kind == "coverage":
        return np.nan, None, "coverage of a known population: change not tested"
    if row.suppressed or row.previous_suppressed:
        return np.nan, None, "base too small in this or the previous wave"
    p_value = two_proportion_p_value(
        int(row.numerator), int(row.base), int(row.previous_numerator), int(row.previous_base)
    )
    return p_value, bool(p_value < significance_level), None


def compute_indicator_trends(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> pd.DataFrame:
    """Each indicator of each loaded wave of the survey beside the previous loaded wave."""
    pairs = con.execute(read_sql("indicator_pairs"), {"survey_id": codebook.survey_id}).df()
    counts = pairs["indicator_kind"].eq("count")
    value = np.where(counts, pairs["numerator"], pairs["pct"]).astype(float)
    previous = np.where(counts, pairs["previous_numerator"], pairs["previous_pct"]).astype(float)
    comparable = np.array([_comparable(row, codebook) for row in pairs.itertuples(index=False)], dtype=bool)
    alpha = codebook.reporting.significance_level
    tests = [_test_change(row, ok, alpha) for row, ok in zip(pairs.itertuples(index=False), comparable)]
    trends = pairs.assign(
        survey_id=codebook.survey_id,
        value=value,
        previous_value=previous,
        change=np.where(comparable, value - previous, np.nan),
        comparable=comparable,
        p_value=[t[0] for t in tests],
        significant=pd.array([t[1] for t in tests], dtype="boolean"),
        note=[t[2] for t in tests],
    )
    return trends[TREND_COLUMNS]


def write_indicator_trends(con: duckdb.DuckDBPyConnection, survey_id: str, trends: pd.DataFrame) -> None:
    """Replace the survey's rows of ``indicator_trends`` in one transaction."""
    con.register("trend_rows", trends)
    try:
        with transaction(con):
            con.execute("DELETE FROM indicator_trends WHERE survey_id = ?", [survey_id])
            con.execute("INSERT INTO indicator_trends BY NAME SELECT * FROM trend_rows")
    finally:
        con.unregister("trend_rows")
