"""Wilson intervals, the two-proportion test, t intervals and Welch's test against values computed independently
of the libraries, or published."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from warehouse.statistics import t_interval, two_proportion_p_values, welch_p_values, wilson_interval

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson_by_hand(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson (1927) score interval, written out from the formula."""
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


# Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score interval without continuity
# correction), as published to four decimals.
NEWCOMBE_TABLE_I = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_TABLE_I)
def test_wilson_matches_newcombes_published_values(k, n, low, high):
    got_low, got_high = wilson_interval([k], [n])
    assert got_low[0] == pytest.approx(low, abs=6e-5)
    assert got_high[0] == pytest.approx(high, abs=6e-5)


@pytest.mark.parametrize(("k", "n"), [(28, 129), (97, 129), (6, 129), (129, 129), (3, 9)])
def test_wilson_matches_the_formula(k, n):
    low, high = wilson_interval([k], [n])
    expected_low, expected_high = wilson_by_hand(k, n)
    assert low[0] == pytest.approx(expected_low, abs=1e-12)
    assert high[0] == pytest.approx(expected_high, abs=1e-12)


def test_wilson_is_missing_where_there_is_no_base():
    low, high = wilson_interval([0, 5, np.nan], [0, 10, 10])
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert not np.isnan(low[1])
    assert np.isnan(low[2])


def test_wilson_confidence_level_is_honoured():
    narrow = wilson_interval([50], [100], confidence_level=0.80)
    wide = wilson_interval([50], [100], confidence_level=0.99)
    assert wide[0][0] < narrow[0][0] < 0.5 < narrow[1][0] < wide[1][0]


def two_proportion_p_value(k1: int, n1: int, k2: int, n2: int) -> float:
    """One pair through the pipeline's vectorised test."""
    return float(two_proportion_p_values([k1], [n1], [k2], [n2])[0])


def pooled_z_p_value_by_hand(k1: int, n1: int, k2: int, n2: int) -> float:
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))  # two-sided normal tail


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(97, 129, 112, 142), (32, 129, 56, 133), (5, 40, 9, 41)])
def test_two_proportion_test_matches_the_formula(k1, n1, k2, n2):
    assert two_proportion_p_value(k1, n1, k2, n2) == pytest.approx(pooled_z_p_value_by_hand(k1, n1, k2, n2), rel=1e-9)


def test_many_pairs_are_tested_at_once_each_as_on_its_own():
    pairs = [(97, 129, 112, 142), (0, 50, 0, 60), (32, 129, 56, 133), (50, 50, 60, 60), (5, 40, 9, 41),
             (0, 40, 9, 41), (1, 2000, 0, 15), (40, 40, 30, 41)]  # a share of 0 or 1 in one wave only
    got = two_proportion_p_values(*np.array(pairs).T)
    expected = [1.0 if (k1 + k2) in (0, n1 + n2) else pooled_z_p_value_by_hand(k1, n1, k2, n2) for k1, n1, k2, n2 in pairs]
    assert got == pytest.approx(expected, rel=1e-9)


def test_a_missing_count_or_base_gives_no_p_value():
    got = two_proportion_p_values([5, np.nan, 5], [40, 40, np.nan], [9, 9, 9], [41, 41, 41])
    assert not np.isnan(got[0]) and np.isnan(got[1]) and np.isnan(got[2])


def test_a_twelve_point_change_at_this_sample_size_is_about_the_threshold():
    # With ~130 respondents a wave and p near 0.75, about 12 points are needed for significance at 5%.
    assert two_proportion_p_value(97, 129, 88, 129) > 0.05  # 75.2% -> 68.2%, 7 points
    assert two_proportion_p_value(97, 129, 81, 129) < 0.05  # 75.2% -> 62.8%, 12 points


def test_no_variance_means_no_evidence_of_change():
    assert two_proportion_p_value(0, 50, 0, 60) == 1.0
    assert two_proportion_p_value(50, 50, 60, 60) == 1.0


# Welch's t-test, Wikipedia's first example ("Welch's t-test", Examples): two samples of 15, published as
# t = -2.46, 24.9 degrees of freedom, p = 0.021.
WELCH_A = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
WELCH_B = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]


def test_welch_from_means_sds_and_bases_matches_the_published_example():
    stats_of = [(statistics.fmean(x), statistics.stdev(x), len(x)) for x in (WELCH_A, WELCH_B)]
    [p] = welch_p_values(*[[v] for v in stats_of[0]], *[[v] for v in stats_of[1]])
    assert p == pytest.approx(0.021, abs=0.0005)


def test_welch_is_missing_without_two_respondents_and_decided_without_variance():
    p = welch_p_values([5, 5, 5, 5], [1, 0, 0, 1], [1, 10, 10, 10], [6, 5, 6, 6], [1, 0, 0, float("nan")], [10, 10, 10, 10])
    assert math.isnan(p[0]) and p[1] == 1.0 and p[2] == 0.0 and math.isnan(p[3])


def test_t_interval_matches_the_formula_with_a_printed_t_quantile():
    # mean 6.25, sd 3.1732..., n 10: t(0.975, 9) = 2.262157 from printed tables
    values = [10, 7.5, 5, 2.5, 10, 7.5, 0, 7.5, 7.5, 5]
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    low, high = t_interval([mean], [sd], [len(values)])
    half = 2.262157 * sd / math.sqrt(len(values))
    assert (low[0], high[0]) == (pytest.approx(mean - half, abs=1e-5), pytest.approx(mean + half, abs=1e-5))
    low90, _ = t_interval([mean], [sd], [len(values)], confidence_level=0.90)
    assert low90[0] == pytest.approx(mean - 1.833113 * sd / math.sqrt(len(values)), abs=1e-5)  # t(0.95, 9)
    assert np.isnan(t_interval([5.0], [0.0], [1])[0][0])  # one respondent: no interval


def test_a_t_interval_is_not_clipped_to_the_questions_scale():
    """Three answers on a 0-10 question, 0, 0 and 10: mean 10/3, sd sqrt(100/3) = 5.7735 (worked by hand), t(0.975, 2)
    = 4.302653 from printed tables, so the interval is 10/3 -/+ 4.302653 * 10 / 3, from -11.009 to 17.675: outside the
    scale on both sides, as Student's t interval is (the issue's convention: a mean's interval is not clipped)."""
    low, high = t_interval([10 / 3], [math.sqrt(100 / 3)], [3])
    assert low[0] == pytest.approx(10 / 3 - 4.302653 * 10 / 3, abs=1e-4) and low[0] < 0
    assert high[0] == pytest.approx(10 / 3 + 4.302653 * 10 / 3, abs=1e-4) and high[0] > 10


def test_a_mean_of_answers_all_alike_has_the_mean_as_its_interval():
    low, high = t_interval([7.5, 6.0], [0.0, 1.0], [4, 4])
    assert (low[0], high[0]) == (7.5, 7.5)
    assert low[1] < 6.0 < high[1]
