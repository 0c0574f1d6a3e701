"""Which changes between waves are tested, and why the others are not: each reason on a hand-built
table, in the order the trends table gives them (the first that applies)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from warehouse.trends import NOT_COMPARABLE, _test_changes

COLUMNS = ["indicator_kind", "previous_wave_id", "numerator", "base", "suppressed",
           "previous_numerator", "previous_base", "previous_suppressed"]


def _pairs(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def test_each_untested_change_says_why_and_a_tested_one_has_its_p_value():
    pairs = _pairs([
        ("share", None, 30, 100, False, None, None, None),  # the first wave
        ("share", "2023", 30, 100, True, 20, 100, False),  # reworded and small: not comparable comes first
        ("count", "2023", 129, 129, False, 120, 120, False),
        ("coverage", "2023", 95, 202, False, 90, 202, False),
        ("share", "2023", 3, 8, False, 20, 100, True),  # small in the previous wave
        ("share", "2023", 3, 8, False, 20, 100, None),  # no flag recorded: treated as small
        ("share", "2023", 97, 129, False, 112, 142, False),  # tested
    ])
    comparable = np.array([True, False, True, True, True, True, True])

    p_value, significant, note = _test_changes(pairs, comparable, significance_level=0.05)

    assert list(note) == [
        "first wave with data", NOT_COMPARABLE, "a count: change not tested",
        "coverage of a known population: change not tested",
        "base too small in this or the previous wave", "base too small in this or the previous wave", None,
    ]
    pooled = (97 + 112) / (129 + 142)
    z = (97 / 129 - 112 / 142) / math.sqrt(pooled * (1 - pooled) * (1 / 129 + 1 / 142))
    assert p_value[-1] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    assert np.isnan(p_value[:-1]).all()
    assert significant[-1] == (p_value[-1] < 0.05)
    assert significant[:-1].isna().all()


def test_a_significant_change_is_flagged_and_no_rows_are_no_trouble():
    pairs = _pairs([("share", "2023", 97, 129, False, 81, 129, False)])  # 75% -> 63%: significant at 5%
    _, significant, note = _test_changes(pairs, np.array([True]), significance_level=0.05)
    assert bool(significant[0]) and note[0] is None

    p_value, significant, note = _test_changes(_pairs([]), np.array([], dtype=bool), significance_level=0.05)
    assert len(p_value) == len(significant) == len(note) == 0


def test_a_mean_is_tested_with_welchs_test_and_a_median_not_at_all():
    """Means carry their standard deviations; the test is Welch's, here on Wikipedia's first example (two
    samples of 15: means 20.82 and 22.99, standard deviations 2.5 and 1.96, published p = 0.021)."""
    import statistics

    from tests.test_statistics import WELCH_A, WELCH_B

    a, b = [(statistics.fmean(x), statistics.stdev(x)) for x in (WELCH_A, WELCH_B)]
    pairs = pd.DataFrame([
        ("mean", "2023", None, 15, False, None, 15, False, b[0], b[1], a[0], a[1]),
        ("median", "2023", None, 15, False, None, 15, False, 22.1, None, 21.0, None),
        ("mean", "2023", None, 15, False, None, 1, False, b[0], b[1], 5.0, None),  # one respondent before
    ], columns=[*COLUMNS, "value", "sd", "previous_value", "previous_sd"])
    pairs.loc[2, "previous_suppressed"] = True  # below any base: suppressed, so not tested
    p_value, significant, note = _test_changes(pairs, np.array([True, True, True]), significance_level=0.05)
    assert p_value[0] == pytest.approx(0.021, abs=0.0005) and bool(significant[0]) and note[0] is None
    assert note[1] == "a median: change not tested" and math.isnan(p_value[1])
    assert note[2] == "base too small in this or the previous wave"
