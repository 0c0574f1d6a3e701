"""The pack's Excel workbook (xlsxwriter): contents, headline table, trends, breakdowns and notes, with
native charts, frozen header rows, percentage number formats and set column widths.

Percentages are written as numbers (a share of 1 formatted ``0.0%``), never as text; a suppressed cell
holds ``*``. Every text cell goes through ``publish.safety.neutralise`` first.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter

from publish.safety import neutralise
from schemas.codebook import Codebook
from warehouse.connection import read_sql

SUPPRESSED = "*"
SHEETS = ("Contents", "Headline", "Trends", "By trust type", "By region", "Notes")


def breakdown_table(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str, dimension: str) -> pd.DataFrame:
    cells = con.execute(read_sql("pack_breakdowns"),
                        {"survey_id": codebook.survey_id, "wave_id": wave_id, "dimension": dimension}).df()
    cells["value"] = cells["pct"].where(~cells["suppressed"])
    wide = cells.pivot(index="indicator_id", columns="category", values="value")
    wide = wide.reindex(list(dict.fromkeys(cells["indicator_id"])))
    return wide.where(wide.notna(), None)


def write_workbook(path: Path, codebook: Codebook, wave_id: str, headline: pd.DataFrame, trends: pd.DataFrame,
                   breakdowns: dict[str, pd.DataFrame], synthetic: bool) -> Path:
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
    pct = book.add_format({"num_format": "0.0%"})
    number = book.add_format({"num_format": "0"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    title = book.add_format({"bold": True, "font_size": 14})
    warning = book.add_format({"bold": True, "font_color": "#C00000"})

    def text(sheet, row, col, value, fmt=None):
        sheet.write_string(row, col, "" if value is None else str(neutralise(value)), fmt)

    contents = book.add_worksheet("Contents")
    text(contents, 0, 0, f"{codebook.title}: wave {wave_id}", title)
    if synthetic:
        text(contents, 1, 0, "SYNTHETIC DATA: generated to reproduce published aggregates; not real responses.", warning)
    for n, (name, what) in enumerate([
        ("Headline", "Headline indicators of the latest wave, with intervals, bases and change"),
        ("Trends", "Headline indicators across all waves"),
        ("By trust type", "Headline shares by trust type"),
        ("By region", "Headline shares by NHS England region"),
        ("Notes", "Definitions, bases, suppression rule and data source"),
    ], start=3):
        contents.write_url(n, 0, f"internal:'{name}'!A1", string=name)
        text(contents, n, 1, what)
    contents.set_column(0, 0, 18)
    contents.set_column(1, 1, 70)

    sheet = book.add_worksheet("Headline")
    columns = ["Indicator", "Percentage", "95% CI low", "95% CI high", "Base", "Trust-weighted %",
               "Change (points)", "Significant", "Note"]
    for col, name in enumerate(columns):
        text(sheet, 0, col, name, bold)
    for row, r in enumerate(headline.itertuples(index=False), start=1):
        text(sheet, row, 0, r.label, wrap)
        for col, value in ((1, r.percentage), (2, r.ci_low), (3, r.ci_high), (5, r.percentage_trust_weighted)):
            if pd.isna(value):
                text(sheet, row, col, SUPPRESSED if r.note.startswith("suppressed") else "")
            else:
                sheet.write_number(row, col, value / 100, pct)
        if pd.notna(r.base):
            sheet.write_number(row, 4, r.base, number)
        if pd.notna(r.change_points):
            sheet.write_number(row, 6, r.change_points, book.add_format({"num_format": "+0.0;-0.0;0.0"}))
        text(sheet, row, 7, r.significant_at_5pct)
        text(sheet, row, 8, r.note, wrap)
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 0, 60)
    sheet.set_column(1, 7, 12)
    sheet.set_column(8, 8, 40)
    shares = [i + 1 for i, v in enumerate(headline["percentage"]) if pd.notna(v)]
    if shares:
        chart = book.add_chart({"type": "bar"})
        first, last = shares[0], shares[-1]
        chart.add_series({
            "name": "Percentage",
            "categories": ["Headline", first, 0, last, 0],
            "values": ["Headline", first, 1, last, 1],
            "y_error_bars": {"type": "custom",
                             "plus_values": [max(0.0, (h - p) / 100) for h, p in zip(headline["ci_high"].iloc[first - 1:last], headline["percentage"].iloc[first - 1:last])],
                             "minus_values": [max(0.0, (p - lo) / 100) for lo, p in zip(headline["ci_low"].iloc[first - 1:last], headline["percentage"].iloc[first - 1:last])]},
        })
        chart.set_title({"name": f"Headline indicators, wave {wave_id} (95% intervals)"})
        chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"none": True})
        chart.set_size({"width": 900, "height": 22 * len(shares) + 120})
        sheet.insert_chart(1, 10, chart)

    sheet = book.add_worksheet("Trends")
    waves = [c for c in trends.columns if c != "indicator"]
    text(sheet, 0, 0, "Indicator", bold)
    for col, wave in enumerate(waves, start=1):
        text(sheet, 0, col, wave, bold)
    for row, r in enumerate(trends.itertuples(index=False), start=1):
        text(sheet, row, 0, r.indicator)
        for col, value in enumerate(r[1:], start=1):
            if pd.notna(value):
                is_count = r.indicator in ("respondents", "trusts_responding")
                sheet.write_number(row, col, value if is_count else value / 100, number if is_count else pct)
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, len(waves), 10)
    line = book.add_chart({"type": "line"})
    for row, r in enumerate(trends.itertuples(index=False), start=1):
        if r.indicator in ("respondents", "trusts_responding"):
            continue
        line.add_series({"name": ["Trends", row, 0], "categories": ["Trends", 0, 1, 0, len(waves)],
                         "values": ["Trends", row, 1, row, len(waves)], "marker": {"type": "circle"}})
    line.set_title({"name": "Headline indicators across waves"})
    line.set_y_axis({"num_format": "0%"})
    line.set_legend({"position": "right"})
    line.set_size({"width": 1000, "height": 560})
    sheet.insert_chart(1, len(waves) + 2, line)

    for name, table in (("By trust type", breakdowns["trust_type"]), ("By region", breakdowns["region"])):
        sheet = book.add_worksheet(name)
        text(sheet, 0, 0, "Indicator", bold)
        for col, category in enumerate(table.columns, start=1):
            text(sheet, 0, col, category, bold)
        for row, (indicator, values) in enumerate(table.iterrows(), start=1):
            text(sheet, row, 0, indicator)
            for col, value in enumerate(values, start=1):
                if value is None or pd.isna(value):
                    text(sheet, row, col, SUPPRESSED)
                else:
                    sheet.write_number(row, col, value / 100, pct)
        sheet.freeze_panes(1, 1)
        sheet.set_column(0, 0, 48)
        sheet.set_column(1, len(table.columns), 16)
        sheet.set_row(0, 60)

    notes = book.add_worksheet("Notes")
    lines = [
        ("Percentage", "Respondents choosing the option, out of those who answered the question (the base). "
                       "For a multiple-choice question, those who ticked at least one option."),
        ("95% interval", "Wilson score interval for a proportion."),
        ("Trust-weighted %", "Each trust counts once: each respondent weighs 1 / respondents from their trust."),
        ("Suppression", f"A percentage resting on fewer than {codebook.reporting.min_base} respondents is shown as "
                        f"{SUPPRESSED}; in breakdowns, where one cell of a row is suppressed, the next smallest "
                        "is suppressed too so it cannot be recovered by subtraction."),
        ("Significance", "A change is marked significant only when a two-proportion z-test is significant at 5%; "
                         "changes across a reworded question or changed options are not comparable."),
        ("Source", f"{codebook.publisher}: {codebook.title}; codebook version {codebook.version}."),
    ]
    if synthetic:
        lines.append(("WARNING", "These data are SYNTHETIC: generated to reproduce the published aggregates, "
                                 "not real responses."))
    text(notes, 0, 0, "Term", bold)
    text(notes, 0, 1, "Meaning", bold)
    for row, (term, meaning) in enumerate(lines, start=1):
        text(notes, row, 0, term, warning if term == "WARNING" else None)
        text(notes, row, 1, meaning, wrap)
    notes.set_column(0, 0, 20)
    notes.set_column(1, 1, 100)
    notes.freeze_panes(1, 0)
    book.close()
    return path
