"""Weighted figures beside the unweighted ones, for headline indicators, breakdowns and trust benchmarks.

Each figure's weighted value, interval, effective base and design effect come from four sums over its base
respondents (Σw, Σw², Σw·y, Σw·y², counted in SQL from the wave's weights: ``weighted_sums.sql`` and its kin),
with the estimators of ``warehouse.statistics``. Only shares and means are weighted: counts and medians stay
unweighted. Suppression is decided on the unweighted base, so a suppressed figure has no weighted value either.

What does not belong here: the weights themselves (``warehouse.weighting``), the estimators
(``warehouse.statistics``).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from warehouse.statistics import weighted_means, weighted_shares

SUMS = ["sum_w", "sum_w2", "sum_wy", "sum_wy2"]
WEIGHTED_COLUMNS = ["value_weighted", "ci_low_weighted", "ci_high_weighted", "effective_base", "design_effect"]
WEIGHTED_KINDS = ("share", "mean")


def wave_is_weighted(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> bool:
    """Whether the wave's respondents carry weights (its survey's codebook weights it)."""
    [(weighted,)] = con.execute("SELECT count(weight) > 0 FROM respondents WHERE survey_id = $survey_id "
                                "AND wave_id = $wave_id", {"survey_id": survey_id, "wave_id": wave_id}).fetchall()
    return bool(weighted)


def no_sums(keys: list[str]) -> pd.DataFrame:
    """The sums of a wave without weights: none (every weighted column stays NULL)."""
    return pd.DataFrame(columns=[*keys, *SUMS])


def estimates(sums: pd.DataFrame, kind: pd.Series, confidence_level: float) -> dict[str, np.ndarray]:
    """Each row's estimate from its sums (``SUMS``): a share's value as a percentage with Wilson's interval on the
    effective base, a mean's with Student's t interval; the effective base, and a mean's weighted sd; NaN for any
    other kind."""
    shares = weighted_shares(sums["sum_w"], sums["sum_w2"], sums["sum_wy"], confidence_level)
    means = weighted_means(sums["sum_w"], sums["sum_w2"], sums["sum_wy"], sums["sum_wy2"], confidence_level)
    share, mean = kind.eq("share").to_numpy(), kind.eq("mean").to_numpy()
    chosen = {column: np.where(share, shares[column], np.where(mean, means[column], np.nan))
              for column in ("value", "ci_low", "ci_high")}
    return {**chosen, "effective_base": shares["effective_base"], "sd": np.where(mean, means["sd"], np.nan)}


def with_weighted_figures(figures: pd.DataFrame, sums: pd.DataFrame, keys: list[str],
                          confidence_level: float) -> pd.DataFrame:
    """``figures`` (``indicator_kind``, unweighted ``base``, ``suppressed``) with the weighted columns, from
    ``sums`` joined on ``keys``: a share's value as a percentage with Wilson's interval on the effective base, a
    mean's with Student's t interval and its weighted sd (``sd_weighted``); NULL for counts and medians, and
    where the unweighted base is suppressed."""
    result = figures.merge(sums[[*keys, *SUMS]], on=keys, how="left")
    kind = result["indicator_kind"]
    figure = estimates(result, kind, confidence_level)
    shown = ~result["suppressed"].astype(bool) & kind.isin(WEIGHTED_KINDS)
    for column in ("value", "ci_low", "ci_high", "sd"):
        result[f"{column}_weighted"] = pd.Series(figure[column], index=result.index).where(shown)
    result["effective_base"] = pd.Series(figure["effective_base"], index=result.index).where(shown)
    result["design_effect"] = result["base"].astype(float) / result["effective_base"]
    return result.drop(columns=SUMS)
