"""Survey statistics, each taken from statsmodels rather than written by hand.

- Wilson score intervals for a proportion (``proportion_confint(method="wilson")``).
- The pooled two-proportion z-test for a change between two waves (``proportions_ztest``).
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


def two_proportion_p_value(count_a: int, base_a: int, count_b: int, base_b: int) -> float:
    """Two-sided p-value of the pooled z-test that two independent proportions are equal.

    When every respondent of both waves gave the same answer (pooled share 0 or 1) there is no
    variance and no evidence of change: the p-value is 1.
    """
    pooled = (count_a + count_b) / (base_a + base_b)
    if pooled in (0.0, 1.0):
        return 1.0
    from statsmodels.stats.proportion import proportions_ztest

    _, p_value = proportions_ztest([count_a, count_b], [base_a, base_b], alternative="two-sided")
    return float(p_value)
