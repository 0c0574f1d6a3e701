"""The invariants the blocking `indicator_values_valid` check enforces, each shown to catch its breach."""

from __future__ import annotations

import pandas as pd
import pytest

from warehouse.indicators import indicator_problems

MIN_BASE = 10


def _table(**changes) -> pd.DataFrame:
    """A sound two-row table (one shown share, one suppressed share), with one cell changed."""
    table = pd.DataFrame(
        {
            "indicator_id": ["q.a", "q.b"],
            "indicator_kind": ["share", "share"],
            "numerator": [30, 3],
            "base": [100, 8],
            "pct": [30.0, None],
            "ci_low": [21.9, None],
            "ci_high": [39.6, None],
            "suppressed": [False, True],
        }
    )
    for column, value in changes.items():
        table.loc[0, column] = value
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
        ({"suppressed": True}, "suppressed although base is 10 or more"),
    ],
)
def test_each_breach_is_named(changes, problem):
    assert indicator_problems(_table(**changes), MIN_BASE) == [f"q.a: {problem}"]
