"""The tables of the workbook's headline, trends and breakdown sheets: which columns each has and what
goes in each cell.

Rows are grouped under the pack's report sections (``publish.tables.sections``), each indicator named by
its label, its id in the last column. A percentage always has its base beside it; a hidden figure holds
its marker (``*`` too small a base, ``**`` hidden so that another cannot be recovered), and the legend
above the table says what the markers it uses mean. Counts are whole numbers; the change of a count is
written ``+0``, the change of a percentage in points with one decimal. Breakdowns show percentages and
bases, never numerators: a count of 1 to 4 is never shown.

What does not belong here: the sheet's frame and print set-up (``publish.workbook_layout``) and the
charts (``publish.workbook_charts``).
"""

from __future__ import annotations

import pandas as pd

from publish.tables import MEASURED, sections
from publish.workbook_charts import headline_charts, place_charts, trend_charts
from publish.workbook_layout import ID_COLUMN, MARKERS, SUPPRESSED, PackSheet, pools
from schemas.codebook import Codebook
from schemas.reporting import REFERENCE_DIMENSIONS


def headline_sheet(page: PackSheet, codebook: Codebook, headline: pd.DataFrame,
                   themes: pd.DataFrame | None = None) -> None:
    styles = page.styles
    # As text: a survey whose codebook lists no headline has an empty table, whose columns have no type.
    page.legend({SUPPRESSED} if headline["note"].astype(str).str.startswith("suppressed").any() else set(),
                codebook.reporting.min_base)
    page.line("Base: the respondents who answered the question (for trust coverage, the trusts in the wave's "
              "population). Number: those choosing the option, or the count itself.")
    if headline["kind"].isin(MEASURED).any():
        page.line("A mean or median is shown on its question's own scale (a score out of 10, a number given), not "
                  "as a percentage; its interval and change are on that scale too.")
    previous = headline["previous_wave"].dropna().unique()
    since = f"Change since {previous[0]}" if len(previous) == 1 else "Change since the previous wave"
    level = f"{codebook.reporting.confidence_level:.0%}"
    measured = headline["kind"].isin(MEASURED).any()
    weighted = codebook.weighting is not None
    if weighted:
        page.line("Weighted: the share or mean weighted as the Notes say, with its interval on the effective base (the "
                  "unweighted respondents the weighted ones are worth); the base beside it is unweighted.")
    columns = [("Indicator", 58), ("% (mean)" if measured else "%", 8), ("Base", 8), ("Number", 8),
               (f"{level} interval: low", 10), (f"{level} interval: high", 10), ("Trust-weighted %", 10),
               (f"{since} (points; for counts, number{'; for means, on their scale' if measured else ''})", 16),
               ("Significant change", 11), ("Note", 34), (ID_COLUMN, 38)]
    if weighted:  # the weighted figures after the unweighted, before the note
        columns[9:9] = [("Weighted % (mean)" if measured else "Weighted %", 9), ("Weighted interval: low", 10),
                        ("Weighted interval: high", 10), ("Effective base", 9), ("Weighted change", 10),
                        ("Weighted change significant", 11)]
    page.columns([width for _, width in columns])
    row = page.header([name for name, _ in columns])
    table = headline.set_index("indicator")
    for heading, ids in sections(codebook, list(headline["indicator"])):
        page.section(row, heading)
        row += 1
        for indicator in ids:
            r = table.loc[indicator]
            count, mean = r.kind == "count", r.kind in MEASURED
            page.text(row, 0, r.label, styles.label)
            if r.note.startswith("suppressed"):
                page.text(row, 1, SUPPRESSED, styles.marker)
            elif mean:
                page.measure(row, 1, r.value)
            elif not count:
                page.percent(row, 1, r.percentage)
            page.whole(row, 2, r.base)
            page.whole(row, 3, r.numerator)
            (page.measure if mean else page.percent)(row, 4, r.ci_low)
            (page.measure if mean else page.percent)(row, 5, r.ci_high)
            page.percent(row, 6, r.percentage_trust_weighted)
            if count:
                page.whole(row, 7, r.change_count, styles.count_change)
            elif mean:
                page.measure(row, 7, r.change_value, styles.measure_change)
            elif pd.notna(r.change_points):
                page.sheet.write_number(row, 7, r.change_points, styles.points)
            page.text(row, 8, r.significant_at_5pct, styles.text)
            col = 9
            if weighted:
                write = page.measure if mean else page.percent
                for value in (r.weighted, r.weighted_ci_low, r.weighted_ci_high):
                    write(row, col, value)
                    col += 1
                page.measure(row, col, r.effective_base)
                if pd.notna(r.weighted_change):
                    page.sheet.write_number(row, col + 1, r.weighted_change,
                                            styles.measure_change if mean else styles.points)
                page.text(row, col + 2, r.weighted_significant_at_5pct, styles.text)
                col += 3
            page.text(row, col, r.note, styles.label)
            page.text(row, col + 1, indicator, styles.text)
            row += 1
    page.finish(place_charts(page, headline_charts(page, codebook, headline, themes), row + 1, per_row=2))


def trends_sheet(page: PackSheet, codebook: Codebook, trends: pd.DataFrame, waves: list[str]) -> None:
    styles = page.styles
    page.legend({SUPPRESSED} if trends["suppressed"].any() else set(), codebook.reporting.min_base)
    page.line("Base: the respondents who answered the question in that wave. Counts are numbers, not percentages."
              + (" A mean or median is on its question's own scale (a score out of 10)."
                 if trends["kind"].isin(MEASURED).any() else ""))
    if not trends["comparable"].all():
        page.line("A chart's line is broken where the question changed between two waves: the waves either "
                  "side of the break are not comparable.")
    if trends["weighted"].any():
        page.line("Shares and means are weighted (see Notes), as in the brief; each base is the respondents who "
                  "answered (unweighted).")
    note_col = 1 + 2 * len(waves)
    page.columns([58] + [8, 7] * len(waves) + [40, 38])
    row = page.header(["Indicator"] + ["%", "base"] * len(waves) + ["Note", ID_COLUMN],
                      [("", 1)] + [(wave, 2) for wave in waves] + [("", 1), ("", 1)])
    for heading, ids in sections(codebook, list(dict.fromkeys(trends["indicator"]))):
        page.section(row, heading)
        row += 1
        for indicator in ids:
            cells = trends[trends["indicator"] == indicator].set_index("wave")
            page.text(row, 0, cells["label"].iloc[0], styles.label)
            for col, wave in enumerate(waves, start=0):
                if wave not in cells.index:
                    continue  # not asked in that wave
                cell, col = cells.loc[wave], 1 + 2 * col
                if cell.kind == "count":
                    page.whole(row, col, cell.numerator)
                elif cell.suppressed:
                    page.text(row, col, SUPPRESSED, styles.marker)
                elif cell.kind in MEASURED:
                    page.measure(row, col, cell.value)
                else:
                    page.percent(row, col, cell.percentage)
                page.whole(row, col + 1, cell.base)
            notes = [f"{wave} not comparable with {cell.previous_wave}: the question changed"
                     for wave, cell in cells.iterrows() if not cell.comparable]
            page.text(row, note_col, "; ".join(notes), styles.label)
            page.text(row, note_col + 1, indicator, styles.text)
            row += 1
    page.finish(place_charts(page, trend_charts(page, codebook, trends, waves), row + 1, per_row=2))


def breakdown_sheet(page: PackSheet, codebook: Codebook, dimension: str, cells: pd.DataFrame) -> None:
    styles, min_base = page.styles, codebook.reporting.min_base
    categories = list(dict.fromkeys(cells["category"]))
    page.legend({MARKERS[why] for why in cells["suppression"].dropna()}, min_base)
    for name, groups in pools(codebook.reporting.pooled_groups.get(dimension, {})).items():
        few = "trusts" if dimension in REFERENCE_DIMENSIONS else "respondents"
        page.line(f"Pooled: {name} combines {' and '.join(groups)}, so that a group of very few {few} is not "
                  "hidden in every wave.")
    never = [c for c in categories if (cells.loc[cells["category"] == c, "suppression"] == "small base").all()]
    if never:
        page.line(f"No figure for {', '.join(never)}: fewer than {min_base} of their respondents answered "
                  "each question.")
    if codebook.weighting is not None:
        page.line("Shares and means are weighted (see Notes), as in the brief; each base is the respondents who "
                  "answered (unweighted).")
    page.line("Each percentage is of the respondents in the group who answered the question; its base is beside it."
              + (" A mean is on its question's own scale (a score out of 10)." if cells["kind"].isin(MEASURED).any()
                 else ""))
    page.columns([58] + [9, 7] * len(categories) + [38])
    row = page.header(["Indicator"] + ["%", "base"] * len(categories) + [ID_COLUMN],
                      [("", 1)] + [(category, 2) for category in categories] + [("", 1)])
    by_cell = {(r.indicator, r.category): r for r in cells.itertuples(index=False)}
    labels = dict(zip(cells["indicator"], cells["label"]))  # an indicator's label is the same in every row
    for heading, ids in sections(codebook, list(dict.fromkeys(cells["indicator"]))):
        page.section(row, heading)
        row += 1
        for indicator in ids:
            page.text(row, 0, labels[indicator], styles.label)
            for n, category in enumerate(categories):
                col = 1 + 2 * n
                cell = by_cell.get((indicator, category))
                if cell is None:
                    continue
                if pd.notna(cell.suppression):  # its base is hidden too (NULL in the warehouse)
                    page.text(row, col, MARKERS[cell.suppression], styles.marker)
                    page.text(row, col + 1, MARKERS[cell.suppression], styles.marker)
                else:
                    if cell.kind in MEASURED:
                        page.measure(row, col, cell.value)
                    else:
                        page.percent(row, col, cell.percentage)
                    page.whole(row, col + 1, cell.base)
            page.text(row, 1 + 2 * len(categories), indicator, styles.text)
            row += 1
    page.finish(row - 1)


COMPARED = {"above": "Above", "below": "Below", "not significantly different": "Not significantly different"}


def benchmark_sheet(page: PackSheet, codebook: Codebook, benchmarks: pd.DataFrame, note: str) -> None:
    """Each trust's headline figures against the trusts of its type: one row per trust and indicator; where no
    trust qualifies, the reason instead of rows."""
    styles, reporting = page.styles, codebook.reporting
    page.line(note)
    page.line(f"A trust is shown for an indicator when at least {reporting.min_base} of its respondents answered. "
              "Similar trusts: the trusts of the same type that qualify (the trust included). Compared with the rest of "
              f"England: all other trusts' respondents together, significant at {reporting.significance_level:.0%}.")
    if codebook.weighting is not None:
        page.line("Figures are weighted (see Notes); the base is the respondents who answered (unweighted).")
    level = f"{reporting.confidence_level:.0%}"
    columns = [("Trust", 34), ("Trust type", 26), ("Indicator", 44), ("Trust % (mean)", 9), (f"{level} low", 8),
               (f"{level} high", 8), ("Base", 7), ("Similar trusts", 8), ("Lowest", 8), ("Median", 8), ("Highest", 8),
               ("Compared with the rest of England", 18), (ID_COLUMN, 30)]
    page.columns([width for _, width in columns])
    row = page.header([name for name, _ in columns])
    for r in benchmarks.itertuples(index=False):
        write = page.measure if r.indicator_kind in MEASURED else page.percent
        page.text(row, 0, f"{r.trust_name} ({r.trust_code})", styles.label)
        page.text(row, 1, r.comparator_group, styles.label)
        page.text(row, 2, r.label, styles.label)
        for col, value in zip((3, 4, 5, 8, 9, 10), (r.value, r.ci_low, r.ci_high, r.group_lowest, r.group_median,
                                                     r.group_highest)):
            write(row, col, value)
        page.whole(row, 6, r.base)
        page.whole(row, 7, r.group_trusts)
        page.text(row, 11, COMPARED.get(r.compared, ""), styles.text)
        page.text(row, 12, r.indicator_id, styles.text)
        row += 1
    page.finish(row - 1)  # without a trust, the header row
