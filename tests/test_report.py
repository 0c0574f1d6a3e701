"""The tables the CLI prints (``pipelines/report.py``): each change on its indicator's own scale."""

from __future__ import annotations

import pandas as pd
from rich.console import Console

from pipelines.report import trend_rich_table


def _printed(table) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_a_trend_shows_a_shares_change_in_points_and_a_means_in_tenths():
    rows = [  # indicator_id, kind, wave, value, change, significant
        ("qi_training.yes", "share", "Q1", 26.4, None, None), ("qi_training.yes", "share", "Q2", 31.9, 5.5, True),
        ("recommend_0_10.mean", "mean", "Q1", 6.42, None, None),
        ("recommend_0_10.mean", "mean", "Q2", 6.55, 0.13, False),
        ("respondents", "count", "Q1", 2012, None, None), ("respondents", "count", "Q2", 1968, -44, None),
    ]
    trends = pd.DataFrame(rows, columns=["indicator_id", "indicator_kind", "wave_id", "value", "change", "significant"])
    trends["comparable"] = True

    text = _printed(trend_rich_table(trends, ["Q1", "Q2"], "Trends"))

    assert "32% (+6pp*)" in text  # 5.5 points, rounded half to even as Python rounds: +6
    assert "6.5 (+0.1)" in text and "pp)" not in text.split("recommend_0_10.mean")[1].split("\n")[0]
    assert "1968 (-44)" in text
    assert "Welch's t-test" in text
