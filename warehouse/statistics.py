"""Survey statistics, each taken from statsmodels or scipy rather than written by hand.

- Wilson score intervals for a proportion (``proportion_confint(method="wilson")``).
- The pooled two-proportion z-test for a change between two waves (``test_proportions_2indep``, the
  score test, vectorised over every indicator and pair of waves).
- The unpooled two-proportion z-test of a trust against the rest of the country (``test_proportions_2indep``
  with Agresti and Caffo's adjustment).
- Student's t interval for a mean, from its standard deviation and base (``scipy.stats.t``).
- Welch's t-test for a change of a mean between two waves, from the stored means, standard deviations and
  bases (``scipy.stats.ttest_ind_from_stats``, unequal variances).
"""

from __future__ import annotations

import numpy as np

# statsmodels is imported where it is used: it pulls in scipy.stats (about 1.5 s), and loading the
# Dagster definitions (the UI, the sensor daemon) must not pay for it.


def wilson_interval(numerator, base, confidence_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper Wilson bounds as proportions (0-1); NaN where the base is 0 or missing."""
    numerator = np.asarray(numerator, dtype=float)
    base = np.asarray(base, dtype=float)
    usable = np.isfinite(numerator) & np.isfinite(base) & (base > 0)
    low = np.full(numerator.shape, np.nan)
    high = np.full(numerator.shape, np.nan)
    if usable.any():
        from statsmodels.stats.proportion import proportion_confint

        low[usable], high[usable] = proportion_confint(
            numerator[usable], base[usable], alpha=1 - confidence_level, method="wilson"
        )
    # Floating point leaves bounds a hair outside [0, 1] at 0 or n of n; the exact bounds are 0 and 1.
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


def two_proportion_p_values(count_a, base_a, count_b, base_b) -> np.ndarray:
    """Two-sided p-values of the pooled z-test that two independent proportions are equal, one per
    element: statsmodels' score test of the difference without small-sample correction, which under the
    null of no difference is the pooled z-test (``proportions_ztest``), here for many pairs at once.

    Where every respondent of both waves gave the same answer (pooled share 0 or 1) there is no variance
    and no evidence of change: the p-value is 1. Where a count or base is missing, it is NaN.
    """
    count_a, base_a, count_b, base_b = (np.asarray(x, dtype=float) for x in (count_a, base_a, count_b, base_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (count_a + count_b) / (base_a + base_b)
    p_values = np.where(np.isnan(pooled), np.nan, 1.0)
    varies = (pooled > 0) & (pooled < 1)
    p_values[varies] = _test_proportions(count_a, base_a, count_b, base_b, varies, "score")
    return p_values


def unpooled_two_proportion_p_values(count_a, base_a, count_b, base_b) -> np.ndarray:
    """Two-sided p-values of the unpooled z-test that two independent proportions are equal (each share's own
    variance, as a trust is compared with the rest of the country), one per element, with Agresti and Caffo's
    adjustment: a success and a failure added to each side, so that a share of 0 or 1 (no variance of its own) is
    not tested on the other side's variance alone. Counts may be fractional (p_w · n_eff). NaN where a count or
    base is missing or a base is 0."""
    count_a, base_a, count_b, base_b = (np.asarray(x, dtype=float) for x in (count_a, base_a, count_b, base_b))
    p_values = np.full(count_a.shape, np.nan)
    usable = np.logical_and.reduce([np.isfinite(v) for v in (count_a, base_a, count_b, base_b)]) & (base_a > 0) & (
        base_b > 0)
    p_values[usable] = _test_proportions(count_a, base_a, count_b, base_b, usable, "agresti-caffo")
    return p_values


def _test_proportions(count_a, base_a, count_b, base_b, rows: np.ndarray, method: str) -> np.ndarray:
    """statsmodels' two-sided test of the difference of two proportions, on the ``rows`` chosen, by ``method``."""
    if not rows.any():
        return np.array([])
    from statsmodels.stats.proportion import test_proportions_2indep

    # The result also carries the shares' ratio and odds ratio, which divide by zero at a share of 0; only the
    # p-value is used.
    with np.errstate(divide="ignore", invalid="ignore"):
        return test_proportions_2indep(count_a[rows], base_a[rows], count_b[rows], base_b[rows], method=method,
                                       compare="diff", correction=False, alternative="two-sided").pvalue


def t_interval(mean, sd, base, confidence_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of Student's t interval for means (n - 1 degrees of freedom), on the mean's own
    scale and not clipped to it; the mean itself where every answer was alike (sd 0, which scipy refuses as a
    scale); NaN where the base is under 2 or a value is missing."""
    mean, sd, base = (np.asarray(x, dtype=float) for x in (mean, sd, base))
    low, high = np.full(mean.shape, np.nan), np.full(mean.shape, np.nan)
    usable = np.isfinite(mean) & np.isfinite(sd) & np.isfinite(base) & (base >= 2)
    alike = usable & (sd == 0)
    low[alike], high[alike] = mean[alike], mean[alike]
    usable &= sd > 0
    if usable.any():
        from scipy import stats

        low[usable], high[usable] = stats.t.interval(confidence_level, base[usable] - 1, loc=mean[usable],
                                                     scale=sd[usable] / np.sqrt(base[usable]))
    return low, high


def welch_p_values(mean_a, sd_a, base_a, mean_b, sd_b, base_b) -> np.ndarray:
    """Two-sided p-values of Welch's t-test that two means are equal, one per element, from their means,
    sample standard deviations and bases; NaN where a value is missing or a base is under 2. Where both waves'
    answers are all alike (both standard deviations 0) there is no variance and no evidence of change unless
    the means differ: 1 if they are equal, 0 if not."""
    values = [np.asarray(x, dtype=float) for x in (mean_a, sd_a, base_a, mean_b, sd_b, base_b)]
    mean_a, sd_a, base_a, mean_b, sd_b, base_b = values
    p_values = np.full(mean_a.shape, np.nan)
    usable = np.logical_and.reduce([np.isfinite(v) for v in values]) & (base_a >= 2) & (base_b >= 2)
    constant = usable & (sd_a == 0) & (sd_b == 0)
    p_values[constant] = np.where(mean_a[constant] == mean_b[constant], 1.0, 0.0)
    varies = usable & ~constant
    if varies.any():
        from scipy import stats

        p_values[varies] = stats.ttest_ind_from_stats(mean_a[varies], sd_a[varies], base_a[varies], mean_b[varies],
                                                      sd_b[varies], base_b[varies], equal_var=False).pvalue
    return p_values


def weighted_shares(sum_w, sum_w2, sum_wy, confidence_level: float = 0.95) -> dict[str, np.ndarray]:
    """Weighted shares from each indicator's sums over its base respondents (Σw, Σw², Σw·y with y 0 or 1):
    Σw·y / Σw as a percentage, Kish's effective base (Σw)² / Σw², and Wilson's interval on the effective base
    with the count p_w · n_eff, unrounded (as the GP Patient Survey allows for its design)."""
    sum_w, sum_w2, sum_wy = (np.asarray(x, dtype=float) for x in (sum_w, sum_w2, sum_wy))
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = sum_w * sum_w / sum_w2
        # Σw·y · Σw / Σw² is p_w · n_eff, written so that equal weights give the unweighted count to the last digit.
        low, high = wilson_interval(sum_wy * sum_w / sum_w2, effective, confidence_level)
        return {"value": 100 * sum_wy / sum_w, "ci_low": 100 * low, "ci_high": 100 * high, "effective_base": effective}


def weighted_means(sum_w, sum_w2, sum_wx, sum_wx2, confidence_level: float = 0.95) -> dict[str, np.ndarray]:
    """Weighted means from each indicator's sums over its base respondents (Σw, Σw², Σw·x, Σw·x²): Σw·x / Σw,
    with Student's t interval on the effective base, x̄_w ± t(n_eff − 1) · s_w / √n_eff, where
    s_w² = [Σw(x − x̄_w)² / Σw] · n_eff / (n_eff − 1), so that equal weights give the unweighted interval."""
    sum_w, sum_w2, sum_wx, sum_wx2 = (np.asarray(x, dtype=float) for x in (sum_w, sum_w2, sum_wx, sum_wx2))
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = sum_w * sum_w / sum_w2
        mean = sum_wx / sum_w
        spread = np.maximum(sum_wx2 - sum_wx * mean, 0) / sum_w  # Σw(x − x̄)² / Σw; a rounding error is no spread
        sd = np.where(effective > 1, np.sqrt(spread * effective / (effective - 1)), np.nan)
    low, high = t_interval(mean, sd, effective, confidence_level)
    return {"value": mean, "sd": sd, "ci_low": low, "ci_high": high, "effective_base": effective}


def normal_interval_with_design_effect(share: float, base: float, deft: float,
                                       confidence_level: float = 0.95) -> tuple[float, float]:
    """The normal-approximation interval of a share widened by a design factor (deft, the square root of the
    design effect), as survey technical reports print it: p ± z · deft · √(p(1 − p) / n). For analysts who
    compare with those reports; the published shares keep Wilson's interval on the effective base."""
    from scipy import stats

    half = stats.norm.ppf(1 - (1 - confidence_level) / 2) * deft * np.sqrt(share * (1 - share) / base)
    return share - half, share + half
