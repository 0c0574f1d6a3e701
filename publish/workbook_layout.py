"""What every sheet of the pack's workbook shares, as a reader sees and prints it: the cell formats, the
markers of hidden figures and their legend, and ``PackSheet``: a title, the synthetic-data warning and lines
of explanation above the table, the table's columns and header rows, and the print set-up.

Each sheet prints landscape on A4, one page wide, its table's header rows repeated on every page and the
warning in the page header, its print area covering the table and the charts below it. Every text cell
goes through ``publish.safety.neutralise``. What does not belong here: what a sheet's table holds
(``publish.workbook_sheets``) or its charts (``publish.workbook_charts``).
"""

from __future__ import annotations

import pandas as pd
import xlsxwriter

from publish import SYNTHETIC_WARNING
from publish.safety import neutralise
from schemas.codebook import Codebook

SUPPRESSED, SECONDARY = "*", "**"  # a hidden cell: too small a base; hidden so another cannot be recovered
PRINTED_WARNING = "SYNTHETIC DATA: not real responses"  # in the header of every printed page
MARKERS = {"small base": SUPPRESSED, "secondary": SECONDARY}  # indicator_breakdowns.suppression
ID_COLUMN = "Indicator id"  # the last column of every table: for analysts, never for reading
ROW_PX = 20  # a row of the default height, in pixels


def legend_text(marker: str, min_base: int) -> str:
    if marker == SUPPRESSED:
        return f"{SUPPRESSED}  fewer than {min_base} respondents answered: the figure is not shown"
    return f"{SECONDARY}  hidden so that another hidden figure of the row cannot be worked out from the rest"


class Styles:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook):
        add = book.add_format
        self.title = add({"bold": True, "font_size": 14})
        self.warning = add({"bold": True, "font_color": "#C00000"})
        self.line = add({"italic": True, "font_color": "#404040"})
        self.header = add({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "bottom": 1})
        self.group = add({"bold": True, "text_wrap": True, "valign": "top", "align": "center",
                          "bg_color": "#DDEBF7", "left": 1})
        self.section = add({"bold": True, "bg_color": "#F2F2F2", "top": 1})
        self.label = add({"text_wrap": True, "valign": "top"})
        self.text = add({"valign": "top"})
        self.pct = add({"num_format": "0.0%", "valign": "top"})
        self.count = add({"num_format": "0", "valign": "top"})
        self.points = add({"num_format": "+0.0;-0.0;0.0", "valign": "top"})
        self.measure = add({"num_format": "0.0", "valign": "top"})  # a mean or median on its own scale
        self.measure_change = add({"num_format": "+0.00;-0.00;0.00", "valign": "top"})
        self.count_change = add({"num_format": "+0;-0;0", "valign": "top"})
        self.marker = add({"align": "right", "valign": "top"})


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # a lone & starts a control code in a print header


class PackSheet:
    """One sheet of the workbook: its title, warning and lines of explanation above the table, the
    table's columns and header rows, and its print set-up once its last row is known."""

    def __init__(self, book: xlsxwriter.Workbook, styles: Styles, name: str, title: str, codebook: Codebook,
                 synthetic: bool):
        self.book, self.styles, self.name = book, styles, name
        self.sheet = book.add_worksheet(name)
        self.widths: list[float] = []
        self.header_rows: tuple[int, int] | None = None
        self.header_px = 0
        self._lines: dict[int, int] = {}  # the most lines a wrapped cell of each row needs
        self.text(0, 0, title, styles.title)
        self.row = 1
        if synthetic:
            self.line(SYNTHETIC_WARNING, styles.warning)
        # Excel takes at most 255 characters for each: the warning is kept whole, the titles are cut.
        warning = f"&R&\"-,Bold\"&KC00000{PRINTED_WARNING}" if synthetic else ""
        self.sheet.set_header(f"&L{_header_text(title[:120])}{warning}")
        self.sheet.set_footer(f"&L{_header_text(codebook.title[:120])}&RPage &P of &N")

    def text(self, row: int, col: int, value, fmt=None) -> None:
        missing = value is None or (not isinstance(value, str) and pd.isna(value))
        text = "" if missing else str(neutralise(value))
        self.sheet.write_string(row, col, text, fmt)
        if fmt is self.styles.label and col < len(self.widths):
            self._fit_row(row, text, self.widths[col])

    def _fit_row(self, row: int, text: str, width: float) -> None:
        """Give a row of wrapped text the lines it needs: neither xlsxwriter nor LibreOffice grows a row
        for wrapped text when the file is written or printed, so long labels would overprint the next row."""
        per_line = max(1, int(width * 1.1))  # characters of ordinary text per column-width unit
        lines = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
        if lines > self._lines.get(row, 1):
            self._lines[row] = lines
            self.sheet.set_row(row, 15 * lines + 1)

    def line(self, value: str, fmt=None) -> None:
        """A line of text above the table (it runs on over the empty cells to its right)."""
        self.text(self.row, 0, value, fmt or self.styles.line)
        self.row += 1

    def legend(self, markers: set[str], min_base: int) -> None:
        for marker in (SUPPRESSED, SECONDARY):
            if marker in markers:
                self.line(legend_text(marker, min_base))

    def columns(self, widths: list[float]) -> None:
        self.widths = list(widths)
        for col, width in enumerate(widths):
            self.sheet.set_column(col, col, width)

    def width_px(self) -> int:
        return sum(int(w * 7 + 0.5) + 5 for w in self.widths)  # Excel's column widths at the default font

    def percent(self, row: int, col: int, value) -> None:
        """A percentage (0 to 100) as a share of 1; nothing when there is none."""
        if pd.notna(value):
            self.sheet.write_number(row, col, float(value) / 100, self.styles.pct)

    def measure(self, row: int, col: int, value, fmt=None) -> None:
        """A mean or median (a score out of 10, a number of hours) on its own scale; nothing when there is none."""
        if pd.notna(value):
            self.sheet.write_number(row, col, float(value), fmt or self.styles.measure)

    def whole(self, row: int, col: int, value, fmt=None) -> None:
        """A count as a whole number; nothing when there is none."""
        if pd.notna(value):
            self.sheet.write_number(row, col, int(value), fmt or self.styles.count)

    def _height(self, cells: list[tuple[str, int, int]]) -> float:
        """The height in points of a header row of wrapped ``(text, first column, span)`` cells: Excel
        does not grow a row that has a height of its own."""
        lines = max(-(-len(text) // max(1, int(sum(self.widths[col:col + span])))) for text, col, span in cells)
        return 15 * max(1, lines) + 3

    def header(self, names: list[str], groups: list[tuple[str, int]] | None = None) -> int:
        """The table's header row below a blank row; with ``groups``, a row above it naming each group of
        columns (a name over ``span`` columns). Returns the table's first row."""
        top = self.row + 1
        rows = [top, top + 1] if groups else [top]
        heights = []
        if groups:
            col, cells = 0, []
            for name, span in groups:
                if span > 1:
                    self.sheet.merge_range(top, col, top, col + span - 1, str(neutralise(name)), self.styles.group)
                else:
                    self.text(top, col, name, self.styles.group)
                cells.append((name, col, span))
                col += span
            heights.append(self._height(cells))
        for col, name in enumerate(names):
            self.text(rows[-1], col, name, self.styles.header)
        heights.append(self._height([(name, col, 1) for col, name in enumerate(names)]))
        for row, points in zip(rows, heights):
            self.sheet.set_row(row, points)
        self.header_rows = (rows[0], rows[-1])
        self.header_px = sum(round(points * 4 / 3) for points in heights)
        return rows[-1] + 1

    def section(self, row: int, heading: str) -> None:
        """A report section's heading across the table's width."""
        for col in range(len(self.widths)):
            self.text(row, col, heading if col == 0 else "", self.styles.section)

    def finish(self, last_row: int) -> None:
        """Landscape, one page wide, the print area from the title to ``last_row`` (charts included),
        the header rows repeated and frozen."""
        sheet, last_col = self.sheet, max(len(self.widths) - 1, 0)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.print_area(0, 0, last_row, last_col)
        if self.header_rows:
            sheet.repeat_rows(*self.header_rows)
            sheet.freeze_panes(self.header_rows[1] + 1, 1)


def pools(groups: dict[str, str]) -> dict[str, list[str]]:
    """Pooled name -> the reference-list groups reported under it (``Reporting.pooled_groups`` of one
    dimension)."""
    pooled: dict[str, list[str]] = {}
    for group, name in groups.items():
        pooled.setdefault(name, []).append(group)
    return pooled
