"""The pack's Excel workbook (xlsxwriter): which sheets it has and in which order (contents, headline
table, trends, a breakdown sheet per dimension the codebook names, notes), and the contents and notes sheets.

Every sheet is made readable and printable alike (``publish.workbook_layout``): indicators named by their
labels, the indicator id only in the last column (for analysts); the base beside every percentage; counts
as whole numbers; hidden figures marked and explained above the table; the synthetic-data warning in the
sheet and in its print header. Percentages are numbers (a share of 1 formatted ``0.0%``), never text.

What does not belong here: the figures (``publish.tables``), the tables of the headline, trend and
breakdown sheets (``publish.workbook_sheets``) and the charts (``publish.workbook_charts``).
"""

from __future__ import annotations

import re

from pathlib import Path

import pandas as pd
import xlsxwriter

from publish.workbook_layout import SECONDARY, SUPPRESSED, SYNTHETIC_WARNING, PackSheet, Styles, legend_text, pools
from publish.weighting_notes import LOW_EFFICIENCY_TERM, weighting_notes
from publish.workbook_sheets import benchmark_sheet, breakdown_sheet, headline_sheet, trends_sheet
from schemas.codebook import Codebook

SIMILAR_TRUSTS_SHEET = "Similar trusts"


def write_workbook(path: Path, codebook: Codebook, wave_id: str, headline: pd.DataFrame, trends: pd.DataFrame,
                   breakdowns: dict[str, pd.DataFrame], synthetic: bool,
                   benchmarks: tuple[pd.DataFrame, str] | None = None, weighting: pd.DataFrame | None = None,
                   themes: pd.DataFrame | None = None) -> Path:
    """The workbook of one wave: ``headline`` (``publish.tables.headline_table``) with a chart per theme of
    ``themes`` (``theme_table``), ``trends``
    (``trend_table``, the waves up to this one), ``breakdowns`` by dimension (``breakdown_table``), the trusts
    against similar trusts (``benchmark_table``) and the waves' weighting diagnostics (``weighting_table``)."""
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    styles = Styles(book)
    waves = list(dict.fromkeys(trends["wave"]))
    contents_sheet(book, styles, codebook, wave_id, waves, synthetic)
    headline_sheet(PackSheet(book, styles, "Headline", f"Headline indicators, wave {wave_id}", codebook, synthetic),
                   codebook, headline, themes)
    title = (f"Headline indicators across waves {waves[0]} to {waves[-1]}" if len(waves) > 1
             else f"Headline indicators, wave {waves[0]} (the first wave: no trend yet)")
    trends_sheet(PackSheet(book, styles, "Trends", title, codebook, synthetic), codebook, trends, waves)
    for dimension in codebook.reporting.breakdowns:
        by = codebook.dimension_name(dimension)
        page = PackSheet(book, styles, breakdown_sheet_name(codebook, dimension), f"Headline percentages by {by}, wave {wave_id}", codebook, synthetic)
        breakdown_sheet(page, codebook, dimension, breakdowns[dimension])
    if benchmarks is not None and codebook.respondent.trust is not None:
        page = PackSheet(book, styles, SIMILAR_TRUSTS_SHEET, f"Each trust against similar trusts, wave {wave_id}",
                         codebook, synthetic)
        benchmark_sheet(page, codebook, *benchmarks)
    notes_sheet(book, styles, codebook, synthetic, weighting)
    book.close()
    return path


def breakdown_sheet_name(codebook: Codebook, dimension: str) -> str:
    """"By <dimension>", without the characters Excel refuses in a sheet name, cut to its 31; a field whose
    name is cut to another's gets its position instead (sheet names must differ)."""
    def name(d: str) -> str:
        return ("By " + re.sub(r"[\[\]:*?/\\]", " ", codebook.dimension_name(d)))[:31]

    dimensions = codebook.reporting.breakdowns
    if [name(d) for d in dimensions].count(name(dimension)) > 1:
        return f"By dimension {dimensions.index(dimension) + 1}"
    return name(dimension)


def contents_sheet(book, styles: Styles, codebook: Codebook, wave_id: str, waves: list[str], synthetic: bool):
    page = PackSheet(book, styles, "Contents", f"{codebook.title}: wave {wave_id}", codebook, synthetic)
    since = f", with the trend since wave {waves[0]}" if len(waves) > 1 else ""
    page.line(f"{codebook.publisher}. Leadership pack of wave {wave_id}{since}.")
    page.columns([18, 100])
    reporting = codebook.reporting
    row = page.header(["Sheet", "What it shows"])
    for name, what in (
        ("Headline", f"The headline indicators of the wave: percentage, base, {reporting.confidence_level:.0%} interval and change since "
                     "the previous wave, and a chart per report section"),
        ("Trends", "The headline indicators in each wave, with their bases, and a chart per report section"),
        *((breakdown_sheet_name(codebook, d), f"Headline percentages by "
           f"{'NHS England region' if d == 'region' else codebook.dimension_name(d)}, with the base of each")
          for d in reporting.breakdowns),
        *([(SIMILAR_TRUSTS_SHEET, "Each trust with enough respondents against the trusts of its type (lowest, median, "
                                  "highest), and whether it is above or below the rest of England")]
          if codebook.respondent.trust is not None else []),
        ("Notes", "What the figures mean: bases, intervals, the markers of hidden figures, pooled groups, "
                  + ("the weighting and what it cost, " if codebook.weighting is not None else "") + "source"),
    ):
        page.sheet.write_url(row, 0, f"internal:'{name}'!A1", string=name)
        page.text(row, 1, what, styles.label)
        row += 1
    page.finish(row - 1)


def notes_sheet(book, styles: Styles, codebook: Codebook, synthetic: bool, weighting: pd.DataFrame | None = None):
    page = PackSheet(book, styles, "Notes", "Notes", codebook, synthetic)
    reporting = codebook.reporting
    pooled = [f"{name}: {' and '.join(groups)}" for by in reporting.pooled_groups.values()
              for name, groups in pools(by).items()]
    lines = [
        ("Percentage", "Respondents choosing the option, out of those who answered the question (the base). "
                       "For a multiple-choice question, those who ticked at least one option."),
        ("Base", "The respondents who answered the question, which a percentage is out of. For trust "
                 "coverage, the trusts in the wave's population."),
        ("Number", "The respondents choosing the option; for a count, the count itself. Counts are whole "
                   "numbers; the change of a count is a difference in number, of a percentage in points."),
        (f"{reporting.confidence_level:.0%} interval", "Wilson score interval for a proportion; Student's t "
                                                       "interval for a mean, on its own scale; none for a median."),
        *([("Trust-weighted %", "Each trust counts once: each respondent weighs 1 / respondents from their trust.")]
          if codebook.respondent.trust is not None else []),
        (SUPPRESSED, _sentence(legend_text(SUPPRESSED, reporting.min_base)) + ". In breakdowns, its base too."),
        (SECONDARY, _sentence(legend_text(SECONDARY, reporting.min_base))
         + " by subtraction (secondary suppression). Counts of 1 to 4 are never shown."),
        ("Pooled groups", "; ".join(pooled) + "." if pooled else "None: every group is reported under its own name."),
        ("Significance", f"A change is marked significant only when a two-proportion z-test (a share) or Welch's "
                         f"t-test (a mean) is significant at {reporting.significance_level:.0%}; medians are not "
                         "tested; "
                         "changes across a reworded question or changed options are not comparable, and a "
                         "trend chart's line is broken there."),
        *weighting_notes(codebook, weighting),
        ("Source", f"{codebook.publisher}: {codebook.title}; codebook version {codebook.version}."),
    ]
    if synthetic:
        lines.append(("WARNING", SYNTHETIC_WARNING))
    page.columns([20, 110])
    row = page.header(["Term", "Meaning"])
    for term, meaning in lines:
        page.text(row, 0, term, styles.warning if term in ("WARNING", LOW_EFFICIENCY_TERM) else styles.text)
        page.text(row, 1, meaning, styles.label)
        row += 1
    page.finish(row - 1)


def _sentence(legend: str) -> str:
    """A legend line without its marker, as the start of a sentence."""
    meaning = legend.lstrip("* ")
    return meaning[:1].upper() + meaning[1:]
