"""The invariants the blocking `indicator_values_valid` check enforces, each shown to catch its breach."""

from __future__ import annotations

import pandas as pd
import pytest

from warehouse.indicators import indicator_problems

MIN_BASE = 10


def _table(row: int = 0, **changes) -> pd.DataFrame:
    """A sound four-row table (a shown share, a suppressed share, a shown mean, a suppressed mean), with the
    cells of one row changed."""
    table = pd.DataFrame(
        {
            "indicator_id": ["q.a", "q.b", "s.score", "t.score"],
            "indicator_kind": ["share", "share", "mean", "mean"],
            "numerator": [30, 3, None, None],
            "base": [100, 8, 40, 5],
            "pct": [30.0, None, None, None],
            "ci_low": [21.9, None, 6.1, None],
            "ci_high": [39.6, None, 7.3, None],
            "suppressed": [False, True, False, True],
            "value": [30.0, None, 6.7, None],
            "sd": [None, None, 1.9, None],
            "value_weighted": [28.5, None, 6.6, None],  # a weighted survey's: the share and the mean shown
            "ci_low_weighted": [19.9, None, 5.9, None],
            "ci_high_weighted": [38.8, None, 7.3, None],
        }
    )
    for column, value in changes.items():
        table.loc[row, column] = value
    return table


def test_a_sound_table_has_no_problem():
    assert indicator_problems(_table(), MIN_BASE) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"numerator": 101}, "numerator above base"),
        ({"pct": 130.0, "ci_high": 140.0}, "percentage outside 0-100"),
        ({"pct": 45.0}, "percentage outside its interval"),
        ({"base": 9, "numerator": 3}, "shown although base below 10"),
        ({"suppressed": True, "pct": None, "value": None, "ci_low": None, "ci_high": None, "value_weighted": None,
          "ci_low_weighted": None, "ci_high_weighted": None}, "suppressed although base is 10 or more"),
        ({"suppressed": True, "pct": None, "ci_low": None, "ci_high": None, "base": 8, "numerator": 3},  # a value left
         "a value shown although suppressed"),
        ({"value_weighted": 45.0}, "weighted value outside its interval"),
    ],
)
def test_each_breach_is_named(changes, problem):
    assert indicator_problems(_table(**changes), MIN_BASE) == [f"q.a: {problem}"]


@pytest.mark.parametrize(
    ("row", "indicator", "changes", "problem"),
    [
        (2, "s.score", {"value": 7.5}, "mean outside its interval"),
        (2, "s.score", {"base": 9}, "shown although base below 10"),
        (3, "t.score", {"sd": 1.2}, "a value shown although suppressed"),
        (3, "t.score", {"value_weighted": 6.0}, "a value shown although suppressed"),  # suppressed on the unweighted base
    ],
)
def test_each_breach_of_a_mean_is_named(row, indicator, changes, problem):
    assert indicator_problems(_table(row, **changes), MIN_BASE) == [f"{indicator}: {problem}"]
