"""Headline indicators of one wave: numerator, base and value counted in SQL, intervals, suppression.

Numerators, bases, percentages, means, medians and suppression are computed in
``warehouse/sql/indicator_values.sql`` from the indicator catalogue stored in the warehouse, so an analyst
querying the warehouse and the published table share one definition; a share's Wilson interval comes
from statsmodels, a mean's Student's t interval from scipy (``warehouse.statistics``); a median has none.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from schemas.reporting import Reporting
from warehouse.connection import read_sql, replace_wave_rows
from warehouse.statistics import t_interval, wilson_interval
from warehouse.trust_counts import ensure_counts
from warehouse.weighted_figures import no_sums, wave_is_weighted, with_weighted_figures

# Percentages are computed in SQL and intervals in numpy: allow for rounding in the last digits.
TOLERANCE = 1e-9

HEADLINE_COLUMNS = [
    "survey_id", "wave_id", "indicator_id", "indicator_kind", "question_id", "label",
    "numerator", "base", "pct", "ci_low", "ci_high", "suppressed", "trusts_base", "pct_trust_weighted",
    "value", "sd", "value_weighted", "ci_low_weighted", "ci_high_weighted", "effective_base", "design_effect",
    "sd_weighted",
]


def compute_headline_indicators(
    con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, reporting: Reporting
) -> pd.DataFrame:
    """Every catalogue indicator for the wave, as rows of ``headline_indicators``, added up from the wave's
    counts by trust (counted again first if they do not match the wave's load or the catalogue)."""
    ensure_counts(con, survey_id, wave_id)
    values = con.execute(
        read_sql("indicator_values"), {"survey_id": survey_id, "wave_id": wave_id, "min_base": reporting.min_base}
    ).df()
    # Intervals only for shares and means that are shown: counts and coverage are not sample estimates, and
    # a median has no interval here.
    shown = ~values["suppressed"].astype(bool)
    shares, means = values["indicator_kind"].eq("share") & shown, values["indicator_kind"].eq("mean") & shown
    numerator = values["numerator"].where(shares).astype(float)
    low, high = wilson_interval(numerator, values["base"].astype(float), reporting.confidence_level)
    mean_low, mean_high = t_interval(values["value"].where(means), values["sd"], values["base"],
                                     reporting.confidence_level)
    result = values.assign(survey_id=survey_id, wave_id=wave_id, ci_low=np.where(means, mean_low, 100 * low),
                           ci_high=np.where(means, mean_high, 100 * high))
    weighted = con.execute(read_sql("trust_weighted_values"), {"survey_id": survey_id, "wave_id": wave_id}).df()
    result = result.merge(weighted, on="indicator_id", how="left")
    shown = ~result["suppressed"] & (result["trusts_base"] >= reporting.min_base)
    result["pct_trust_weighted"] = (100 * result["weighted_numerator"] / result["weighted_base"]).where(shown)
    return _with_weighted_values(con, result, survey_id, wave_id, reporting)[HEADLINE_COLUMNS]


def _with_weighted_values(con, result: pd.DataFrame, survey_id: str, wave_id: str, reporting: Reporting) -> pd.DataFrame:
    """Each share's and mean's weighted value, interval, effective base and design effect, from the wave's weights;
    NULL for a wave without weights."""
    params = {"survey_id": survey_id, "wave_id": wave_id}
    # An unweighted wave skips the sums: over a million respondents they would count every answer again.
    sums = (con.execute(read_sql("weighted_sums"), params).df() if wave_is_weighted(con, survey_id, wave_id)
            else no_sums(["indicator_id"]))
    return with_weighted_figures(result, sums, ["indicator_id"], reporting.confidence_level)


def published_headline(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> pd.DataFrame:
    """The wave's rows of ``headline_indicators`` as they stand (the last ones computed and published)."""
    return con.execute(read_sql("wave_headline_rows"), {"survey_id": survey_id, "wave_id": wave_id}).df()


def figure_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Each indicator whose figure, as a reader sees it (a share to one decimal or "suppressed", a count),
    is not what it was: ``indicator_id``, ``before`` and ``after`` ("none" where it was or is not there).
    A codebook version that changes an earlier wave's figures, or a corrected delivery, says so with this.
    A wave computed for the first time changes nothing that was published: no rows."""
    if before.empty:
        return pd.DataFrame(columns=["indicator_id", "before", "after"])
    shown = {frame_name: dict(zip(frame["indicator_id"], map(_as_read, frame.itertuples(index=False))))
             for frame_name, frame in (("before", before), ("after", after))}
    ids = sorted(set(shown["before"]) | set(shown["after"]))
    rows = [(i, shown["before"].get(i, "none"), shown["after"].get(i, "none")) for i in ids]
    return pd.DataFrame([r for r in rows if r[1] != r[2]], columns=["indicator_id", "before", "after"])


def _as_read(row) -> str:
    if row.indicator_kind in ("count", "coverage"):
        return f"{row.numerator:,}"
    if row.suppressed:
        return "suppressed"
    return f"{row.pct:.1f}%" if row.indicator_kind == "share" else f"{row.value:.1f}"


def write_headline_indicators(
    con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, indicators: pd.DataFrame
) -> None:
    """Replace the wave's rows of ``headline_indicators`` in one transaction."""
    replace_wave_rows(con, "headline_indicators", survey_id, wave_id, indicators)


def indicator_problems(indicators: pd.DataFrame, min_base: int) -> list[str]:
    """Rows breaking the table's invariants; an empty list when the table is sound."""
    problems = []
    shares = indicators[indicators["indicator_kind"] == "share"]
    shown = shares[~shares["suppressed"]]
    estimates = indicators[indicators["indicator_kind"].isin(["share", "mean", "median"])]
    means = indicators[(indicators["indicator_kind"] == "mean") & ~indicators["suppressed"]]
    withheld = estimates[estimates["suppressed"]]
    weighted = indicators[indicators["value_weighted"].notna() & indicators["ci_low_weighted"].notna()]
    checks = {
        "numerator above base": shares["numerator"] > shares["base"],
        "percentage outside 0-100": ~shown["pct"].between(0, 100),
        "percentage outside its interval": ~(
            (shown["ci_low"] <= shown["pct"] + TOLERANCE) & (shown["pct"] <= shown["ci_high"] + TOLERANCE)
        ),
        "mean outside its interval": ~(
            (means["ci_low"] <= means["value"] + TOLERANCE) & (means["value"] <= means["ci_high"] + TOLERANCE)
        ) & means["ci_low"].notna(),
        f"shown although base below {min_base}": ~estimates["suppressed"] & (estimates["base"] < min_base),
        f"suppressed although base is {min_base} or more": estimates["suppressed"] & (estimates["base"] >= min_base),
        "a value shown although suppressed": withheld["value"].notna() | withheld["sd"].notna() | withheld["ci_low"].notna()
        | withheld["value_weighted"].notna(),
        "weighted value outside its interval": ~(
            (weighted["ci_low_weighted"] <= weighted["value_weighted"] + TOLERANCE)
            & (weighted["value_weighted"] <= weighted["ci_high_weighted"] + TOLERANCE)),
    }
    for problem, failing in checks.items():
        for indicator_id in indicators.loc[failing[failing].index, "indicator_id"]:
            problems.append(f"{indicator_id}: {problem}")
    return problems
