"""The workbook's native charts: per report section, a bar chart of the wave's headline percentages with
their intervals (the codebook's level) and a trend chart across waves; per theme, a bar chart of the theme's score and its
items' scores (out of 10); and where charts go on a sheet so that none is cut when it is printed.

A chart reads cells, and its arrangement is not the table's (short labels; a line broken in two series
where the question changed), so each sheet's charts read their own cells in hidden columns to the right
of the table, outside the print area. A trend line is broken where a wave is not comparable with the one
before: the waves from the break on are a series of their own, in the same colour, left out of the legend.
Chart text is neutralised like any cell (a name starting with ``=`` would be read as a formula).

What does not belong here: the tables themselves (``publish.workbook_sheets``).
"""

from __future__ import annotations

from itertools import cycle

import pandas as pd
from xlsxwriter.chart import Chart

from publish.safety import neutralise
from publish.tables import sections, short_labels, theme_score_ids
from publish.workbook_layout import ROW_PX, PackSheet
from schemas.codebook import Codebook
from schemas.indicator_catalogue import SCORE

COLOURS = ("#1F4E79", "#C55A11", "#548235", "#7030A0", "#BF9000", "#2E75B6", "#A50021", "#7F7F7F")
# A4 landscape inside Excel's default margins, at 96 pixels an inch; a page's height kept a little short,
# as Excel's column widths come out a little wider than computed.
PAGE_WIDTH_PX, PAGE_HEIGHT_PX = 988, 0.9 * 650
GAP_PX = 16


class ChartData:
    """The cells a sheet's charts read: rows in hidden columns to the right of the sheet's table."""

    def __init__(self, page: PackSheet):
        self.page, self.col, self.next_row = page, len(page.widths) + 1, 0

    def add(self, values: list) -> int:
        """One row of cells (text, numbers, None for a gap); returns its row."""
        row, sheet = self.next_row, self.page.sheet
        for offset, value in enumerate(values):
            if isinstance(value, str):
                self.page.text(row, self.col + offset, value)
            elif value is not None and pd.notna(value):
                sheet.write_number(row, self.col + offset, value)
        sheet.set_column(self.col, self.col + len(values) - 1, None, None, {"hidden": True})
        self.next_row += 1
        return row

    def ref(self, row: int, first: int, last: int | None = None) -> list:
        """The cells ``first`` to ``last`` of ``row``, counted from the block's first column, as a chart's
        range."""
        return [self.page.name, row, self.col + first, row, self.col + (first if last is None else last)]


def headline_charts(page: PackSheet, codebook: Codebook, headline: pd.DataFrame,
                    themes: pd.DataFrame | None = None) -> list[Chart]:
    """A bar chart per report section of the wave's headline shares, each with its interval; then one per theme of
    ``themes`` (``publish.tables.theme_table``)."""
    if headline["weighted"].notna().any():  # a weighted survey's charts show what its brief tells: weighted
        headline = headline.assign(percentage=headline["weighted"], ci_low=headline["weighted_ci_low"],
                                   ci_high=headline["weighted_ci_high"])
    shares = headline[(headline["kind"] == "share") & headline["percentage"].notna()].set_index("indicator")
    data, level = ChartData(page), f"{codebook.reporting.confidence_level:.0%}"
    charts = _share_charts(page, codebook, shares, data, level)
    return charts + (_theme_charts(page, codebook, themes, data, level) if themes is not None else [])


def _bar_chart(page: PackSheet, data: ChartData, points: list[tuple[str, float, float, float]], title: str,
               name: str, axis: dict, scale: float = 1.0) -> Chart:
    """A bar per point (name, value, interval's low, high; each divided by ``scale``), its interval as error bars (none
    where it is unknown)."""
    rows, plus, minus = [], [], []
    for label, value, low, high in points:
        rows.append(data.add([label, value / scale]))
        plus.append(max(0.0, (high - value) / scale) if pd.notna(high) else 0)
        minus.append(max(0.0, (value - low) / scale) if pd.notna(low) else 0)
    chart = page.book.add_chart({"type": "bar"})
    chart.add_series({
        "name": name,
        "categories": [page.name, rows[0], data.col, rows[-1], data.col],
        "values": [page.name, rows[0], data.col + 1, rows[-1], data.col + 1],
        "fill": {"color": COLOURS[0]}, "gap": 60,
        "y_error_bars": {"type": "custom", "plus_values": plus, "minus_values": minus},
    })
    chart.set_title({"name": title, "name_font": {"size": 12}})
    chart.set_x_axis({**axis, "major_gridlines": {"visible": True}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.show_hidden_data()
    chart.set_size({"height": 300})
    return chart


def _theme_charts(page: PackSheet, codebook: Codebook, scores: pd.DataFrame, data: ChartData, level: str) -> list[Chart]:
    """Per theme, its score and its items' scores (out of 10), each with its interval; a score withheld (too few
    answers) is left out, and a theme with none shown has no chart."""
    charts = []
    for label, ids in theme_score_ids(codebook):
        shown = [i for i in ids if i in scores.index]
        if not shown:
            continue
        names = short_labels(codebook, shown)
        points = [(f"{label} (theme)" if i == ids[0] else names.get(i, i), scores.loc[i, "value"],
                   scores.loc[i, "ci_low"], scores.loc[i, "ci_high"]) for i in shown]
        charts.append(_bar_chart(page, data, points,
                                 f"{neutralise(label)}: theme and item scores out of 10 (with {level} intervals)",
                                 "Score", {"num_format": "0", "min": 0, "max": 10}))
    return charts


def _share_charts(page: PackSheet, codebook: Codebook, shares: pd.DataFrame, data: ChartData, level: str) -> list[Chart]:
    """Per report section, its questions' headline percentages, each with its interval."""
    charts = []
    for heading, ids in sections(codebook, list(shares.index)):
        names = short_labels(codebook, ids)
        points = [(names.get(i, shares.loc[i, "label"]), shares.loc[i, "percentage"], shares.loc[i, "ci_low"],
                   shares.loc[i, "ci_high"]) for i in ids]
        charts.append(_bar_chart(page, data, points, f"{neutralise(heading)} (with {level} intervals)",
                                 "Percentage", {"num_format": "0%", "min": 0, "max": 1}, scale=100))
    return charts


def _segments(cells: pd.DataFrame, waves: list[str]) -> list[list[str]]:
    """The waves of one indicator, split before each wave not comparable with the wave before it."""
    segments = [[]]
    for wave in waves:
        if wave in cells.index and not cells.at[wave, "comparable"] and segments[-1]:
            segments.append([])
        segments[-1].append(wave)
    return segments


def trend_charts(page: PackSheet, codebook: Codebook, trends: pd.DataFrame, waves: list[str]) -> list[Chart]:
    """A line chart per report section of the headline shares of its questions, across ``waves``, and one of
    the headline scores (item and theme scores, out of 10)."""
    data = ChartData(page)
    categories = data.ref(data.add(["", *waves]), 1, len(waves))
    shares = list(dict.fromkeys(trends.loc[trends["kind"] == "share", "indicator"]))
    scores = list(dict.fromkeys(trends.loc[(trends["kind"] == "mean") & trends["indicator"].str.endswith(f".{SCORE}"),
                                           "indicator"]))
    charts = []
    panels = [(heading, ids, "percentage", 100) for heading, ids in sections(codebook, shares)]
    panels += [("Scores (out of 10)", scores, "value", 1)] if scores else []
    for heading, ids, column, per in panels:
        chart, names, continued, count = page.book.add_chart({"type": "line"}), short_labels(codebook, ids), [], 0
        for colour, indicator in zip(cycle(COLOURS), ids):
            cells = trends[trends["indicator"] == indicator].set_index("wave")
            for n, segment in enumerate(_segments(cells, waves)):
                values = [cells.at[w, column] / per if w in segment and w in cells.index else None
                          for w in waves]
                row = data.add([names.get(indicator, cells["label"].iloc[0]), *values])
                if n:
                    continued.append(count)
                count += 1
                chart.add_series({"name": data.ref(row, 0), "categories": categories,
                                  "values": data.ref(row, 1, len(waves)), "line": {"color": colour, "width": 2.25},
                                  "marker": {"type": "circle", "size": 6, "border": {"color": colour},
                                             "fill": {"color": colour}}})
        chart.set_title({"name": str(neutralise(heading)), "name_font": {"size": 12}})
        chart.set_y_axis({"num_format": "0%" if per == 100 else "0", "min": 0, "max": 1 if per == 100 else 10,
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_legend({"position": "bottom", "delete_series": continued})
        chart.show_hidden_data()
        chart.set_size({"height": 300})
        charts.append(chart)
    return charts


def place_charts(page: PackSheet, charts: list[Chart], first_row: int, per_row: int = 1) -> int:
    """``charts`` in rows of their own from ``first_row``, ``per_row`` side by side within the table's
    width, starting on a new page and with a page break wherever the next row of charts would not fit on
    the page: none is cut. Returns the last row they cover (``first_row - 2``, the table's last row, when
    there are none)."""
    if not charts:
        return first_row - 2
    height = max(chart.height for chart in charts)
    table = page.width_px()
    width = (table - GAP_PX * (per_row - 1)) // per_row
    rows_each = -(-height // ROW_PX) + 1  # whole rows, and one between rows of charts
    scale = min(1.0, PAGE_WIDTH_PX / table)  # one page wide
    per_page = max(1, int((PAGE_HEIGHT_PX / scale - page.header_px) // (rows_each * ROW_PX)))
    breaks = []
    for n, chart in enumerate(charts):
        line, place = divmod(n, per_row)
        row = first_row + line * rows_each
        if place == 0 and line % per_page == 0:
            breaks.append(row)
        chart.set_size({"width": width, "height": height})
        page.sheet.insert_chart(row, 0, chart, {"x_offset": place * (width + GAP_PX), "y_offset": 0})
    page.sheet.set_h_pagebreaks(breaks)
    return first_row + (len(charts) - 1) // per_row * rows_each + rows_each - 1
