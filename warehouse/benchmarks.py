"""Each trust against trusts like it: the NHS Staff Survey's benchmarking, for every trust and indicator with a
base in that trust of at least the codebook's ``min_base``.

A trust's value (weighted where its survey is) is set beside its comparator group, the trusts of its type in the
reference list that qualify for the indicator (the trust itself included): their lowest, median and highest
value and how many they are. Whether the trust is significantly above or below the rest of the country (every
other trust's respondents together) is a two-sided test on the effective bases: the unpooled two-proportion
z-test for a share (with Agresti and Caffo's adjustment), Welch's t-test for a mean. Only shares and means are benchmarked; a median has no test.

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
from schemas.reporting import REFERENCE_DIMENSIONS
from warehouse.connection import read_sql, replace_wave_rows
from warehouse.statistics import unpooled_two_proportion_p_values, welch_p_values
from warehouse.trust_counts import ensure_counts
from warehouse.weighted_figures import SUMS, estimates, wave_is_weighted

BENCHMARK_COLUMNS = [
    "survey_id", "wave_id", "trust_code", "trust_name", "comparator_group", "indicator_id", "indicator_kind", "label",
    "base", "value", "ci_low", "ci_high", "effective_base", "weighted", "group_trusts", "group_lowest",
    "group_median", "group_highest", "rest_value", "p_value", "compared",
]
SUMMARY_COLUMNS = ["survey_id", "wave_id", "trusts_responding", "trusts_benchmarked", "figures_benchmarked",
                   "figures_withheld", "min_base", "weighted", "note"]
ABOVE, BELOW, NOT_DIFFERENT, NOT_TESTED = "above", "below", "not significantly different", "not tested"
NATIONAL = "national"  # the group of every trust (benchmark_groups.sql): England's base is published too


def compute_trust_benchmarks(con: duckdb.DuckDBPyConnection, codebook: Codebook,
                             wave_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The wave's rows of ``trust_benchmarks`` and its one row of ``trust_benchmark_waves`` (what was benchmarked,
    and why nothing was where nothing was)."""
    survey_id, reporting = codebook.survey_id, codebook.reporting
    params = {"survey_id": survey_id, "wave_id": wave_id}
    weighted = wave_is_weighted(con, survey_id, wave_id)
    if codebook.respondent.trust is None:
        return _empty(), _summary(survey_id, wave_id, 0, _empty(), 0, reporting.min_base, weighted,
                                  "The survey asks no trust: there is no trust to benchmark.")
    ensure_counts(con, survey_id, wave_id)
    sums = con.execute(read_sql("trust_value_sums" if weighted else "trust_count_sums"), params).df()
    catalogue = con.execute("SELECT indicator_id, indicator_kind, label FROM indicators WHERE survey_id = $survey_id "
                            "AND indicator_kind IN ('share', 'mean')", {"survey_id": survey_id}).df()
    pooled = [[d, g, r] for d, groups in reporting.pooled_groups.items() for g, r in groups.items()]
    groups = con.execute(read_sql("benchmark_groups"), {"pooled": pooled, "dimensions": list(REFERENCE_DIMENSIONS)}).df()
    sums = sums.merge(catalogue, on="indicator_id").merge(
        groups[groups["dimension"] == "trust_type"][["trust_code", "trust_name", "category"]]
        .rename(columns={"category": "comparator_group"}), on="trust_code", how="left")
    responding = int(sums["trust_code"].nunique())
    # The rest of the country: the wave's sums over every trust less the trust's own.
    rest = sums.groupby("indicator_id")[SUMS].transform("sum") - sums[SUMS]
    own = estimates(sums, sums["indicator_kind"], reporting.confidence_level)
    other = estimates(rest, sums["indicator_kind"], reporting.confidence_level)
    figures = sums.assign(survey_id=survey_id, wave_id=wave_id, weighted=weighted, rest_value=other["value"],
                          **{c: own[c] for c in ("value", "ci_low", "ci_high", "effective_base")})
    figures["p_value"] = _p_values(figures["indicator_kind"], own, other)
    qualifying = figures["base"] >= reporting.min_base
    published = groups[groups["dimension"].isin([*reporting.breakdowns, NATIONAL])]
    hidden = con.execute(read_sql("hidden_breakdown_cells"), params).df()
    withheld = withheld_by_subtraction(figures[["indicator_id", "trust_code", "base"]], published, hidden,
                                       reporting.min_base)
    figures = figures[qualifying].merge(withheld.assign(withheld=True), on=["indicator_id", "trust_code"], how="left")
    figures = figures[figures["withheld"].isna()].drop(columns="withheld")
    group = figures.groupby(["indicator_id", "comparator_group"])["value"]
    figures = figures.assign(group_trusts=group.transform("size"), group_lowest=group.transform("min"),
                             group_median=group.transform("median"), group_highest=group.transform("max"))
    significant = figures["p_value"] < reporting.significance_level
    figures["compared"] = np.select(
        [figures["p_value"].isna(), significant & (figures["value"] > figures["rest_value"]),
         significant & (figures["value"] < figures["rest_value"])], [NOT_TESTED, ABOVE, BELOW], NOT_DIFFERENT)
    figures = figures.sort_values(["trust_code", "indicator_id"], ignore_index=True)[BENCHMARK_COLUMNS]
    held = f" {withheld['trust_code'].nunique()} trusts are left out of some indicators so that a smaller trust's " \
           "figures cannot be worked out by subtraction." if len(withheld) else ""
    note = (f"{figures['trust_code'].nunique()} trusts have at least {reporting.min_base} respondents answering one "
            f"or more indicators; each is set against the qualifying trusts of its type.{held}" if len(figures) else
            f"No trust has {reporting.min_base} or more respondents answering any indicator, and no figure rests on "
            "fewer: no trust is benchmarked.")
    return figures, _summary(survey_id, wave_id, responding, figures, len(withheld), reporting.min_base, weighted, note)


def _p_values(kind: pd.Series, own: dict, other: dict) -> np.ndarray:
    """Each trust against the rest of the country, two-sided, on the effective bases. A share: the unpooled z-test
    with Agresti and Caffo's adjustment (a success and a failure added to each side), so that a trust where every
    respondent answered alike (a share of 0% or 100%, no variance of its own) is not called significant on the
    rest of the country's variance alone. A mean: Welch's test, not made where every answer in the trust, or in
    the rest, was alike (NaN: 'not tested')."""
    p_share = unpooled_two_proportion_p_values(own["value"] / 100 * own["effective_base"], own["effective_base"],
                                               other["value"] / 100 * other["effective_base"], other["effective_base"])
    p_mean = welch_p_values(own["value"], own["sd"], own["effective_base"], other["value"], other["sd"],
                            other["effective_base"])
    alike = (np.asarray(own["sd"]) == 0) | (np.asarray(other["sd"]) == 0)
    return np.where(kind.eq("share").to_numpy(), p_share, np.where(alike, np.nan, p_mean))


def withheld_by_subtraction(bases: pd.DataFrame, groups: pd.DataFrame, hidden: pd.DataFrame,
                            min_base: int) -> pd.DataFrame:
    """The trusts to leave out of an indicator's benchmarks (``indicator_id``, ``trust_code``), from ``bases``: every
    responding trust's base for each indicator. A trust with ``min_base`` answers would be shown; but a published
    group (England, a trust type or region as the breakdowns report it: ``groups`` of ``trust_code``,
    ``dimension``, ``category``) whose base less the bases of the trusts shown in it leaves 1 to min_base − 1
    respondents would give away the base of the trusts not shown (and, in an unweighted survey, their count); and a
    breakdown cell hidden by secondary suppression (``hidden``: ``indicator_id``, ``dimension``, ``category``) may
    not be the sum of the trusts shown. The shown trust with the smallest base is left out, as in secondary
    suppression, until neither happens."""
    withheld: list[tuple[str, str]] = []
    hidden_cells = set(hidden.itertuples(index=False, name=None))
    for indicator, trusts in bases.groupby("indicator_id", sort=False):
        members = groups.merge(trusts[["trust_code", "base"]], on="trust_code")
        totals = members.groupby(["dimension", "category"])["base"].sum()
        by_group = members.groupby(["dimension", "category"])["trust_code"].apply(list)
        shown = {c: b for c, b in zip(trusts["trust_code"], trusts["base"]) if b >= min_base}
        changed = True
        while changed and shown:
            changed = False
            for (dimension, category), codes in by_group.items():
                visible = [c for c in codes if c in shown]
                remainder = totals[(dimension, category)] - sum(shown[c] for c in visible)
                if visible and (0 < remainder < min_base
                                or (remainder == 0 and (indicator, dimension, category) in hidden_cells)):
                    smallest = min(visible, key=lambda c: (shown[c], c))
                    withheld.append((indicator, smallest))
                    del shown[smallest]
                    changed = True
    return pd.DataFrame(withheld, columns=["indicator_id", "trust_code"])


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=BENCHMARK_COLUMNS)


def _summary(survey_id: str, wave_id: str, responding: int, figures: pd.DataFrame, withheld: int,
             min_base: int, weighted: bool, note: str) -> pd.DataFrame:
    benchmarked = int(figures["trust_code"].nunique()) if len(figures) else 0
    return pd.DataFrame([[survey_id, wave_id, responding, benchmarked, len(figures), withheld, min_base, weighted, note]],
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
