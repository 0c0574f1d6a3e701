"""Each trust against trusts like it: the NHS Staff Survey's benchmarking, for every trust and indicator with a
base in that trust of at least the codebook's ``min_base``.

A trust's value (weighted where its survey is) is set beside its comparator group, the trusts of its type in the
reference list that qualify for the indicator (the trust itself included): their lowest, median and highest
value and how many they are. Whether the trust is significantly above or below the rest of the country (every
other trust's respondents together) is a two-sided test on the effective bases: the unpooled two-proportion
z-test for a share, Welch's t-test for a mean. Only shares and means are benchmarked; a median has no test.

Everything is made from four sums per trust and indicator (Σw, Σw², Σw·y, Σw·y²), which add up: the rest of the
country is the wave's sums less the trust's. A wave without weights takes them from its counts by trust (every
weight 1), so an unweighted survey of millions of respondents is not counted again.

What does not belong here: the weights (``warehouse.weighting``), the estimators (``warehouse.statistics``).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from schemas.codebook import Codebook
from warehouse.connection import read_sql, replace_wave_rows
from warehouse.statistics import unpooled_two_proportion_p_values, weighted_means, weighted_shares, welch_p_values
from warehouse.trust_counts import ensure_counts
from warehouse.weighted_figures import SUMS, wave_is_weighted

BENCHMARK_COLUMNS = [
    "survey_id", "wave_id", "trust_code", "trust_name", "comparator_group", "indicator_id", "indicator_kind", "label",
    "base", "value", "ci_low", "ci_high", "effective_base", "weighted", "group_trusts", "group_lowest",
    "group_median", "group_highest", "rest_value", "p_value", "compared",
]
SUMMARY_COLUMNS = ["survey_id", "wave_id", "trusts_responding", "trusts_benchmarked", "figures_benchmarked",
                   "largest_trust_base", "min_base", "weighted", "note"]
ABOVE, BELOW, NOT_DIFFERENT = "above", "below", "not significantly different"


def _estimates(sums: pd.DataFrame, kind: pd.Series, confidence_level: float) -> dict[str, np.ndarray]:
    """Value (a share as a percentage), interval, effective base and sd of each row's sums."""
    shares = weighted_shares(sums["sum_w"], sums["sum_w2"], sums["sum_wy"], confidence_level)
    means = weighted_means(sums["sum_w"], sums["sum_w2"], sums["sum_wy"], sums["sum_wy2"], confidence_level)
    share = kind.eq("share").to_numpy()
    return {column: np.where(share, shares[column], means[column]) for column in ("value", "ci_low", "ci_high")} | {
        "effective_base": shares["effective_base"], "sd": means["sd"]}


def compute_trust_benchmarks(con: duckdb.DuckDBPyConnection, codebook: Codebook,
                             wave_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wave's rows of ``trust_benchmarks`` and its one row of ``trust_benchmark_waves`` (what was benchmarked,
    and why nothing was where nothing was)."""
    survey_id, reporting = codebook.survey_id, codebook.reporting
    params = {"survey_id": survey_id, "wave_id": wave_id}
    weighted = wave_is_weighted(con, survey_id, wave_id)
    if codebook.respondent.trust is None:
        return _empty(), _summary(survey_id, wave_id, 0, pd.DataFrame(), None, reporting.min_base, weighted,
                                  "The survey asks no trust: there is no trust to benchmark.")
    ensure_counts(con, survey_id, wave_id)
    sums = con.execute(read_sql("trust_value_sums" if weighted else "trust_count_sums"), params).df()
    catalogue = con.execute("SELECT indicator_id, indicator_kind, label FROM indicators WHERE survey_id = $survey_id "
                            "AND indicator_kind IN ('share', 'mean')", {"survey_id": survey_id}).df()
    trusts = con.execute("SELECT ods_code AS trust_code, name AS trust_name, trust_type AS comparator_group "
                         "FROM trusts").df()
    sums = sums.merge(catalogue, on="indicator_id").merge(trusts, on="trust_code", how="left")
    responding = int(sums["trust_code"].nunique())
    largest = int(sums["base"].max()) if len(sums) else None
    # The rest of the country: the wave's sums over every trust less the trust's own.
    rest = sums.groupby("indicator_id")[SUMS].transform("sum") - sums[SUMS]
    own = _estimates(sums, sums["indicator_kind"], reporting.confidence_level)
    other = _estimates(rest, sums["indicator_kind"], reporting.confidence_level)
    figures = sums.assign(survey_id=survey_id, wave_id=wave_id, weighted=weighted, rest_value=other["value"],
                          **{c: own[c] for c in ("value", "ci_low", "ci_high", "effective_base")})
    share = figures["indicator_kind"].eq("share").to_numpy()
    p_share = unpooled_two_proportion_p_values(own["value"] / 100 * own["effective_base"], own["effective_base"],
                                               other["value"] / 100 * other["effective_base"], other["effective_base"])
    p_mean = welch_p_values(own["value"], own["sd"], own["effective_base"], other["value"], other["sd"],
                            other["effective_base"])
    figures["p_value"] = np.where(share, p_share, p_mean)
    figures = figures[figures["base"] >= reporting.min_base].copy()
    group = figures.groupby(["indicator_id", "comparator_group"])["value"]
    figures = figures.assign(group_trusts=group.transform("size"), group_lowest=group.transform("min"),
                             group_median=group.transform("median"), group_highest=group.transform("max"))
    significant = figures["p_value"] < reporting.significance_level
    figures["compared"] = np.select(
        [figures["p_value"].isna(), significant & (figures["value"] > figures["rest_value"]),
         significant & (figures["value"] < figures["rest_value"])], [None, ABOVE, BELOW], NOT_DIFFERENT)
    figures = figures.sort_values(["trust_code", "indicator_id"], ignore_index=True)[BENCHMARK_COLUMNS]
    note = (f"{figures['trust_code'].nunique()} trusts have at least {reporting.min_base} respondents answering one "
            "or more indicators; each is set against the qualifying trusts of its type." if len(figures) else
            f"No trust has {reporting.min_base} or more respondents answering any indicator (the most in one trust: "
            f"{largest or 0}), and no figure rests on fewer: no trust is benchmarked.")
    return figures, _summary(survey_id, wave_id, responding, figures, largest, reporting.min_base, weighted, note)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=BENCHMARK_COLUMNS)


def _summary(survey_id: str, wave_id: str, responding: int, figures: pd.DataFrame, largest: int | None,
             min_base: int, weighted: bool, note: str) -> pd.DataFrame:
    benchmarked = int(figures["trust_code"].nunique()) if len(figures) else 0
    return pd.DataFrame([[survey_id, wave_id, responding, benchmarked, len(figures), largest, min_base, weighted, note]],
                        columns=SUMMARY_COLUMNS)


def write_trust_benchmarks(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str) -> pd.DataFrame:
    """Compute and replace the wave's rows of ``trust_benchmarks`` and ``trust_benchmark_waves``; returns the
    latter's row."""
    figures, summary = compute_trust_benchmarks(con, codebook, wave_id)
    replace_wave_rows(con, "trust_benchmarks", codebook.survey_id, wave_id, figures)
    replace_wave_rows(con, "trust_benchmark_waves", codebook.survey_id, wave_id, summary)
    return summary


def benchmark_waves_loaded_before(con: duckdb.DuckDBPyConnection, codebooks: dict[str, Codebook]) -> list[str]:
    """Benchmark the loaded waves that have never been (loaded by a release before benchmarking, and up to date
    since), so that their results are complete when the warehouse is next published; returns their keys."""
    done = []
    for survey_id, wave_id in con.execute(read_sql("waves_without_benchmarks")).fetchall():
        if survey_id in codebooks:
            write_trust_benchmarks(con, codebooks[survey_id], wave_id)
            done.append(f"{survey_id}/{wave_id}")
    return done
