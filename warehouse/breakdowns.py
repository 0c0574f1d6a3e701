"""Breakdowns of each share and mean by the codebook's dimensions (``reporting.breakdowns``: trust type and NHS
region from the reference list, respondent fields such as an occupational group), weighted beside unweighted
where the survey is weighted, and coverage of trusts by trust type and region.

Disclosure control follows the GP Patient Survey: a cell whose base is below the threshold is
suppressed; where that leaves one suppressed cell in a row (an indicator within one dimension), the cell
with the next smallest base is suppressed too, so the first cannot be recovered by subtracting the others
from the total. Counts of 1 to 4 are never shown, even where the percentage is. Groups the codebook pools
(``reporting.pooled_groups``: a type or region of one trust) are reported under their pooled name, so
that a group below the base in every wave does not make secondary suppression hide another whole group.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from schemas.reporting import REFERENCE_DIMENSIONS, Reporting
from warehouse.connection import read_sql
from warehouse.statistics import t_interval, wilson_interval
from warehouse.trust_counts import ensure_counts
from warehouse.weighted_figures import WEIGHTED_COLUMNS, no_sums, wave_is_weighted, with_weighted_figures

SMALL_BASE = "small base"
SECONDARY = "secondary"
SMALLEST_SHOWN_COUNT = 5
BREAKDOWN_COLUMNS = [
    "survey_id", "wave_id", "indicator_id", "dimension", "category", "numerator", "base",
    "pct", "ci_low", "ci_high", "suppressed", "suppression", "value", "sd", *WEIGHTED_COLUMNS,
]
ROW = ["indicator_id", "dimension"]


def suppress(cells: pd.DataFrame, min_base: int) -> pd.Series:
    """The suppression of each cell ('small base', 'secondary' or None), row by row (``ROW`` columns)."""
    primary = pd.Series(cells["base"].to_numpy() < min_base, index=cells.index)
    reason = pd.Series(np.where(primary, SMALL_BASE, None), index=cells.index, dtype=object)
    # Rows (an indicator within one dimension) with exactly one small cell among two or more cells: the
    # smallest other cell goes too, the one whose suppression protects the first at least cost.
    grouped = primary.groupby([cells[c] for c in ROW], sort=False)
    lone = (grouped.transform("sum") == 1) & (grouped.transform("size") > 1)
    candidates = cells[lone & ~primary].sort_values([*ROW, "base", "category"])
    reason[candidates.drop_duplicates(ROW).index] = SECONDARY
    return reason


def compute_indicator_breakdowns(
    con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, reporting: Reporting
) -> pd.DataFrame:
    ensure_counts(con, survey_id, wave_id)
    params = {"survey_id": survey_id, "wave_id": wave_id, "pooled": [
        [dimension, group, reported] for dimension, groups in reporting.pooled_groups.items()
        for group, reported in groups.items()]}
    reference = [d for d in reporting.breakdowns if d in REFERENCE_DIMENSIONS]
    fields = [d for d in reporting.breakdowns if d not in REFERENCE_DIMENSIONS]
    cells = pd.concat([con.execute(read_sql("breakdown_values"), {**params, "dimensions": reference}).df(),
                       con.execute(read_sql("field_breakdown_values"), {**params, "fields": fields}).df()],
                      ignore_index=True)
    keys = ["indicator_id", "dimension", "category"]
    sums = (con.execute(read_sql("weighted_breakdown_sums"), {**params, "dimensions": reference, "fields": fields}).df()
            if wave_is_weighted(con, survey_id, wave_id) else no_sums(keys))
    reason = suppress(cells, reporting.min_base)
    suppressed = reason.notna().to_numpy()
    means = cells["indicator_kind"].eq("mean").to_numpy()
    measured = cells["indicator_kind"].isin(["mean", "median"]).to_numpy()  # a value on the question's scale
    low, high = wilson_interval(cells["numerator"].where(~suppressed & ~measured), cells["base"],
                                reporting.confidence_level)
    mean_low, mean_high = t_interval(cells["value"].where(~suppressed & means), cells["sd"], cells["base"],
                                     reporting.confidence_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(suppressed | measured, np.nan, 100 * cells["numerator"] / cells["base"])
    small_count = cells["numerator"].between(1, SMALLEST_SHOWN_COUNT - 1)
    result = cells.assign(
        survey_id=survey_id,
        wave_id=wave_id,
        numerator=cells["numerator"].astype("Int64").mask(suppressed | small_count),
        base=cells["base"].astype("Int64").mask(suppressed),
        pct=pct,
        ci_low=np.where(means, mean_low, 100 * low),  # a median has none
        ci_high=np.where(means, mean_high, 100 * high),
        suppressed=suppressed,
        suppression=reason,
        value=np.where(suppressed, np.nan, np.where(measured, cells["value"], pct)),
        sd=cells["sd"].where(means & ~suppressed),
    )
    # Weighted beside the unweighted, from the unweighted base (before it is withheld) and its suppression.
    weighted = with_weighted_figures(cells.assign(suppressed=suppressed), sums, keys, reporting.confidence_level)
    return pd.concat([result.drop(columns=WEIGHTED_COLUMNS, errors="ignore"), weighted[WEIGHTED_COLUMNS]],
                     axis=1)[BREAKDOWN_COLUMNS]


def compute_trust_coverage(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> pd.DataFrame:
    coverage = con.execute(read_sql("trust_coverage"), {"survey_id": survey_id, "wave_id": wave_id}).df()
    return coverage.assign(survey_id=survey_id, wave_id=wave_id)
