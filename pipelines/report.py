"""Tables printed for people by the CLI: the headline table of a wave and the trend table.

Numbers come from the warehouse through ``warehouse.reports``; this module only lays them out.
"""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

SIGNIFICANT_MARK = "*"
NOT_COMPARABLE_MARK = "n/c"


def _pct(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0f}%"


def format_value(kind: str, value, suppressed: bool = False) -> str:
    if suppressed:
        return "[suppressed]"
    if kind == "count":
        return "" if pd.isna(value) else f"{int(value)}"
    if kind in ("mean", "median"):
        return "" if pd.isna(value) else f"{value:.1f}"
    return _pct(value)


def _signed(change: float, kind: str) -> str:
    """A change on its indicator's scale: whole points of a percentage ("+3pp"), tenths of a mean or median
    ("+0.1", as the value is shown), a whole count."""
    if kind in ("mean", "median"):
        rounded = round(change, 1)
        return f"{rounded:+.1f}" if rounded else "0.0"
    rounded = round(change)
    return (f"{rounded:+d}" if rounded else "0") + ("" if kind == "count" else "pp")


def headline_rich_table(table: pd.DataFrame, title: str) -> Table:
    out = Table(title=title, title_justify="left")
    for column, justify in [("indicator", "left"), ("value", "right"), ("95% CI", "right"), ("n / base", "right")]:
        out.add_column(column, justify=justify)
    for row in table.itertuples(index=False):
        if row.indicator_kind == "count":
            value, interval, counts = f"{int(row.numerator)}", "", ""
        else:
            value = format_value(row.indicator_kind, row.value, bool(row.suppressed))
            interval = "" if pd.isna(row.ci_low) else f"{row.ci_low:.1f}-{row.ci_high:.1f}"
            counts = ("" if pd.isna(row.base) else f"{int(row.base)}" if pd.isna(row.numerator)
                      else f"{int(row.numerator)} / {int(row.base)}")
        out.add_row(row.indicator_id, value, interval, counts)
    return out


def trend_rich_table(trends: pd.DataFrame, waves: list[str], title: str) -> Table:
    out = Table(title=title, title_justify="left", caption=f"Change from the previous wave in brackets, computed before rounding; "
                f"{SIGNIFICANT_MARK} significant at 5% (a share: two-proportion z-test; a mean: Welch's t-test); "
                f"{NOT_COMPARABLE_MARK} not comparable: "
                "the question's wording or options changed", caption_justify="left")
    out.add_column("indicator")
    for wave in waves:
        out.add_column(wave, justify="right")
    for indicator_id, rows in trends.groupby("indicator_id", sort=False):
        by_wave = {r.wave_id: r for r in rows.itertuples(index=False)}
        cells = []
        for wave in waves:
            r = by_wave.get(wave)
            if r is None:
                cells.append("")
                continue
            cell = format_value(r.indicator_kind, r.value, suppressed=pd.isna(r.value))
            if not r.comparable:
                cell += f" ({NOT_COMPARABLE_MARK})"
            elif pd.notna(r.change):
                mark = SIGNIFICANT_MARK if pd.notna(r.significant) and bool(r.significant) else ""
                cell += f" ({_signed(r.change, r.indicator_kind)}{mark})"
            cells.append(cell)
        out.add_row(indicator_id, *cells)
    return out
