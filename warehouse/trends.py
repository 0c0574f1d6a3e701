"""Trends across waves: each indicator beside the previous wave, the change, and whether it is significant.

Pairs of waves are formed in SQL (``warehouse/sql/indicator_pairs.sql``); a share's change is tested with
statsmodels' pooled two-proportion z-test, a mean's with Welch's t-test from the stored means, standard
deviations and bases (scipy), each run for every pair at once. Counts are not estimates, coverage is a
census of trusts, and medians are not tested. A share or mean whose question was reworded, or whose options
changed, between the two waves is marked not comparable, with no change reported.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from schemas.codebook import Codebook
from schemas.indicator_catalogue import SCORE, option_indicator_id
from warehouse.connection import read_sql, transaction
from warehouse.statistics import two_proportion_p_values, welch_p_values

TREND_COLUMNS = [
    "survey_id", "indicator_id", "wave_id", "previous_wave_id", "value", "previous_value",
    "change", "comparable", "p_value", "significant", "note", "change_weighted", "significant_weighted",
]
NOT_COMPARABLE = "question changed between these waves (wording or options): not comparable"


def _comparable(pairs: pd.DataFrame, codebook: Codebook) -> np.ndarray:
    """True where a share's or mean's questions are asked alike in both waves, and for every row that is not
    such an estimate with a previous wave (nothing to compare)."""
    same = {
        (previous, wave): codebook.comparable_questions(previous, wave)
        for previous, wave in pairs.loc[pairs["previous_wave_id"].notna(), ["previous_wave_id", "wave_id"]]
        .drop_duplicates().itertuples(index=False)
    }
    # A theme's questions are its items (it has no question of its own).
    items = {option_indicator_id(t.id, SCORE): t.items for t in codebook.indicators.themes}
    return np.array([
        kind not in ("share", "mean", "median") or previous is None or pd.isna(previous)
        or all(q in same[(previous, wave)] for q in items.get(indicator, [question]))
        for kind, previous, wave, question, indicator in zip(
            pairs["indicator_kind"], pairs["previous_wave_id"], pairs["wave_id"], pairs["question_id"],
            pairs["indicator_id"])
    ], dtype=bool)


def _test_changes(pairs: pd.DataFrame, comparable: np.ndarray, significance_level: float):
    """Each row's p-value, whether it is significant, and why it was not tested (None when it was)."""
    first = pairs["previous_wave_id"].isna().to_numpy()
    kind = pairs["indicator_kind"].to_numpy()
    # A missing suppression flag counts as suppressed: no test on a base nobody has checked.
    small = (pairs["suppressed"].astype("boolean").fillna(True)
             | pairs["previous_suppressed"].astype("boolean").fillna(True)).to_numpy(dtype=bool)
    conditions = [first, ~comparable, kind == "count", kind == "coverage", kind == "median", small]
    reasons = ["first wave with data", NOT_COMPARABLE, "a count: change not tested",
               "coverage of a known population: change not tested", "a median: change not tested",
               "base too small in this or the previous wave"]
    note = np.select(conditions, reasons, default="")
    tested = note == ""
    p_value = np.full(len(pairs), np.nan)
    shares, means = tested & (kind == "share"), tested & (kind == "mean")
    if shares.any():
        rows = pairs[shares]
        p_value[shares] = two_proportion_p_values(
            rows["numerator"], rows["base"], rows["previous_numerator"], rows["previous_base"])
    if means.any():
        rows = pairs[means]
        p_value[means] = welch_p_values(rows["value"], rows["sd"], rows["base"], rows["previous_value"],
                                        rows["previous_sd"], rows["previous_base"])
    significant = pd.array(np.where(tested, p_value < significance_level, False), dtype="boolean")
    significant[~tested] = pd.NA
    return p_value, significant, np.where(tested, None, note)


def _weighted_changes(pairs: pd.DataFrame, tested: np.ndarray, significance_level: float):
    """The weighted value's change and whether it is significant, tested as the unweighted one is but on the
    effective bases (a share's count p_w · n_eff, unrounded; a mean's weighted sd with n_eff − 1); NULL where
    either wave has no weighted value or the unweighted change was not tested."""
    value, previous = (pairs[c].astype(float).to_numpy() for c in ("value_weighted", "previous_value_weighted"))
    both = tested & np.isfinite(value) & np.isfinite(previous)
    kind = pairs["indicator_kind"].to_numpy()
    p_value = np.full(len(pairs), np.nan)
    shares, means = both & (kind == "share"), both & (kind == "mean")
    if shares.any():
        rows = pairs[shares]
        p_value[shares] = two_proportion_p_values(
            rows["value_weighted"] / 100 * rows["effective_base"], rows["effective_base"],
            rows["previous_value_weighted"] / 100 * rows["previous_effective_base"], rows["previous_effective_base"])
    if means.any():
        rows = pairs[means]
        p_value[means] = welch_p_values(rows["value_weighted"], rows["sd_weighted"], rows["effective_base"],
                                        rows["previous_value_weighted"], rows["previous_sd_weighted"],
                                        rows["previous_effective_base"])
    significant = pd.array(np.where(both, p_value < significance_level, False), dtype="boolean")
    significant[~both] = pd.NA
    return np.where(both, value - previous, np.nan), significant


def compute_indicator_trends(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> pd.DataFrame:
    """Each indicator of each loaded wave of the survey beside the previous loaded wave."""
    pairs = con.execute(read_sql("indicator_pairs"), {"survey_id": codebook.survey_id}).df()
    value = pairs["value"].astype(float).to_numpy()
    previous = pairs["previous_value"].astype(float).to_numpy()
    comparable = _comparable(pairs, codebook)
    p_value, significant, note = _test_changes(pairs, comparable, codebook.reporting.significance_level)
    tested = np.array([n is None for n in note], dtype=bool)
    change_weighted, significant_weighted = _weighted_changes(pairs, tested, codebook.reporting.significance_level)
    trends = pairs.assign(
        survey_id=codebook.survey_id,
        value=value,
        previous_value=previous,
        change=np.where(comparable, value - previous, np.nan),
        comparable=comparable,
        p_value=p_value,
        significant=significant,
        note=note,
        change_weighted=change_weighted,
        significant_weighted=significant_weighted,
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
