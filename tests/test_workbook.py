"""The leadership pack's workbook, as a reader opens and prints it: labels for people (ids only in the last
column), the base beside every percentage, hidden figures explained where they are, whole-number counts,
the synthetic warning on every sheet and printed page, print set-up that keeps charts whole, and a trend
chart per report section whose lines break where waves are not comparable.

Expectations come from the warehouse and the codebook, never from the code that writes the workbook."""

from __future__ import annotations

import posixpath
import re
import shutil
import zipfile
from xml.etree import ElementTree

import duckdb
import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from publish.pack import WORKBOOK
from tests.conftest import SURVEY_ID
from warehouse.connection import connect

SHEETS = ["Contents", "Headline", "Trends", "By trust type", "By region", "Similar trusts", "Notes"]
TABLES = ["Headline", "Trends", "By trust type", "By region"]
ID_LIKE = re.compile(r"\b[a-z]+(_[a-z]+)+\b|\b[a-z_]+\.[a-z_]+\b")
NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
      "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}


def _pack_path(demo_run):
    return demo_run.home / "publish" / "improvement-journey" / "2025" / WORKBOOK


@pytest.fixture(scope="module")
def book(demo_run):
    return load_workbook(_pack_path(demo_run))


@pytest.fixture(scope="module")
def warehouse(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        yield con


def _headline_ids(warehouse) -> list[str]:
    return [i for (i,) in warehouse.execute("select indicator_id from indicators where headline_order is not null "
                                            "and survey_id = ? order by headline_order", [SURVEY_ID]).fetchall()]


def _label(codebook, indicator_id: str) -> str | None:
    """The label the issue asks for: question title and option label (or the composite's label)."""
    if "." not in indicator_id:
        return None
    question_id, option_id = indicator_id.split(".")
    question = codebook.question(question_id)
    composite = next((c for c in codebook.indicators.composites if c.id == indicator_id), None)
    option = composite.label if composite else next(o.label for o in question.options if o.id == option_id)
    return f"{question.title}: {option}"


def _hidden_columns(ws) -> set[int]:
    """Columns hidden from the reader (the cells the charts read)."""
    return {col for d in ws.column_dimensions.values() if d.hidden for col in range(d.min, d.max + 1)}


def _last_column(ws, row: int) -> int:
    hidden = _hidden_columns(ws)
    return max(c.column for c in ws[row] if c.value and c.column not in hidden)


def _table(ws):
    """The sheet's table: the header row (1-based), the "Indicator id" column (1-based), each indicator's row
    by id, and for a table with groups of columns (waves, categories) the group of each column."""
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Indicator")
    names = [c.value for c in ws[header]]
    id_col = names.index("Indicator id") + 1
    rows = {ws.cell(r, id_col).value: r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, id_col).value}
    groups = {}
    for merged in ws.merged_cells.ranges:
        if merged.min_row == header - 1:
            for col in range(merged.min_col, merged.max_col + 1):
                groups[col] = ws.cell(header - 1, merged.min_col).value
    return header, id_col, rows, groups


def _columns(ws, header, group: str) -> tuple[int, int]:
    """The "%" and "base" columns of one group (a wave, a category)."""
    _, _, _, groups = _table(ws)
    pct, base = sorted(col for col, name in groups.items() if name == group)
    assert ws.cell(header, pct).value == "%" and ws.cell(header, base).value == "base"
    return pct, base


def test_people_read_labels_and_ids_only_in_the_last_column(book, warehouse, codebook):
    assert book.sheetnames == SHEETS
    headline = _headline_ids(warehouse)
    for name in SHEETS:
        ws = book[name]
        id_col = _table(ws)[1] if name in TABLES else None
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.column != id_col:
                    assert not ID_LIKE.search(cell.value), (name, cell.coordinate, cell.value)
    for name in TABLES:
        ws = book[name]
        header, id_col, rows, _ = _table(ws)
        assert id_col == _last_column(ws, header), name  # the last column of the table
        shown = headline if name in ("Headline", "Trends") else [i for i in headline if "." in i]
        assert sorted(rows) == sorted(shown), name
        for indicator, row in rows.items():
            label = ws.cell(row, 1).value
            assert label and label != indicator and not ID_LIKE.search(label)
            if _label(codebook, indicator):
                assert label == _label(codebook, indicator), (name, indicator)


def test_every_percentage_has_its_base_beside_it(book, warehouse):
    stored = warehouse.execute("select h.indicator_id, h.wave_id, h.indicator_kind, h.numerator, h.base, h.pct "
                               "from headline_indicators h join indicators i using (survey_id, indicator_id) "
                               "where i.headline_order is not null and survey_id = ?", [SURVEY_ID]).fetchall()
    ws = book["Headline"]
    header, _, rows, _ = _table(ws)
    names = [c.value for c in ws[header]]
    pct_col, base_col, number_col = names.index("%") + 1, names.index("Base") + 1, names.index("Number") + 1
    for indicator, wave, kind, numerator, base, pct in stored:
        if wave != "2025":
            continue
        row = rows[indicator]
        if kind == "count":
            assert ws.cell(row, number_col).value == numerator and ws.cell(row, pct_col).value is None
        else:
            assert ws.cell(row, pct_col).value == pytest.approx(pct / 100, abs=0.00051)
            assert ws.cell(row, base_col).value == base
    ws = book["Trends"]
    header, _, rows, _ = _table(ws)
    for indicator, wave, kind, numerator, base, pct in stored:
        pct_col, base_col = _columns(ws, header, wave)
        value, shown_base = ws.cell(rows[indicator], pct_col), ws.cell(rows[indicator], base_col)
        if kind == "count":
            assert value.value == numerator and value.number_format == "0" and shown_base.value is None
        else:
            assert value.value == pytest.approx(pct / 100, abs=0.00051) and "%" in value.number_format
            assert shown_base.value == base
    markers = {"small base": "*", "secondary": "**"}
    for name, dimension in (("By trust type", "trust_type"), ("By region", "region")):
        ws = book[name]
        header, _, rows, _ = _table(ws)
        cells = warehouse.execute("select b.indicator_id, b.category, b.pct, b.base, b.suppressed, b.suppression "
                                  "from indicator_breakdowns b join indicators i using (survey_id, indicator_id) "
                                  "where b.wave_id = '2025' and b.dimension = ? and i.headline_order is not null",
                                  [dimension]).fetchall()
        assert cells
        for indicator, category, pct, base, suppressed, suppression in cells:
            pct_col, base_col = _columns(ws, header, category)
            shown = ws.cell(rows[indicator], pct_col).value, ws.cell(rows[indicator], base_col).value
            if suppressed:
                assert shown == (markers[suppression or "small base"],) * 2
            else:
                assert shown[0] == pytest.approx(pct / 100, abs=0.00051) and shown[1] == base


def test_counts_are_whole_numbers(book):
    count_headers = {"Base", "base", "Number"}
    for name in TABLES:
        ws = book[name]
        header, id_col, rows, _ = _table(ws)
        names = {c.column: c.value for c in ws[header]}
        for row in rows.values():
            for col in range(2, id_col):
                cell = ws.cell(row, col)
                if isinstance(cell.value, int | float) and names[col] in count_headers:
                    assert isinstance(cell.value, int) and cell.number_format == "0", (name, cell.coordinate)
                if cell.number_format == "0" and cell.value is not None:
                    assert isinstance(cell.value, int), (name, cell.coordinate, cell.value)
    ws = book["Headline"]
    header, _, rows, _ = _table(ws)
    change = next(c.column for c in ws[header] if str(c.value).startswith("Change since"))
    for indicator in ("respondents", "trusts_responding"):
        cell = ws.cell(rows[indicator], change)
        assert isinstance(cell.value, int) and cell.number_format == "+0;-0;0"
    share = ws.cell(rows["trust_approach_stage.embedded"], change)
    assert isinstance(share.value, float) and share.number_format == "+0.0;-0.0;0.0"


def _anchors_and_charts(path, sheet: str) -> list[tuple[dict, ElementTree.Element]]:
    """Each chart of one sheet, in order: its anchor (0-based from/to row and col, offsets) and its XML."""
    def rels(part: str) -> dict[str, str]:
        folder, name = part.rsplit("/", 1)
        rel_part = f"{folder}/_rels/{name}.rels"
        if rel_part not in zip_names:
            return {}
        root = ElementTree.fromstring(archive.read(rel_part))
        return {r.get("Id"): f"{folder}/{r.get('Target')}" for r in root}

    with zipfile.ZipFile(path) as archive:
        zip_names = archive.namelist()
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
        rel = next(s.get(f"{{{NS['r']}}}id") for s in workbook.iter(f"{main}sheet") if s.get("name") == sheet)
        sheet_part = posixpath.normpath(rels("xl/workbook.xml")[rel])
        found = []
        for drawing in rels(sheet_part).values():
            drawing = posixpath.normpath(drawing)
            if "/drawings/" not in drawing:
                continue
            charts = {k: posixpath.normpath(v) for k, v in rels(drawing).items()}
            for anchor in ElementTree.fromstring(archive.read(drawing)).findall("xdr:twoCellAnchor", NS):
                where = {f"{end}_{what}": int(anchor.find(f"xdr:{end}/xdr:{what}", NS).text)
                         for end in ("from", "to") for what in ("row", "col", "rowOff", "colOff")}
                chart_rel = anchor.find(".//c:chart", NS).get(f"{{{NS['r']}}}id")
                found.append((where, ElementTree.fromstring(archive.read(charts[chart_rel]))))
        return found


def _series(chart) -> list[dict]:
    series = []
    for ser in chart.iter(f"{{{NS['c']}}}ser"):
        name = ser.find("c:tx//c:v", NS)
        colour = ser.find("c:spPr/a:ln/a:solidFill/a:srgbClr", NS)
        points = {int(p.get("idx")): float(p.find("c:v", NS).text) for p in ser.findall("c:val//c:pt", NS)}
        series.append({"name": None if name is None else name.text, "points": points,
                       "colour": None if colour is None else colour.get("val")})
    return series


def _title(chart) -> str:
    return "".join(t.text for t in chart.findall("c:chart/c:title//a:t", NS))


def test_a_trend_chart_per_report_section_with_lines_broken_where_not_comparable(demo_run, warehouse, codebook):
    headline = _headline_ids(warehouse)
    expected = []
    for heading, questions in codebook.reported_sections():
        ids = [i for i in headline if "." in i and i.split(".")[0] in {q.id for q in questions}]
        if ids:
            expected.append((heading, ids))
    charts = [chart for _, chart in _anchors_and_charts(_pack_path(demo_run), "Trends")]
    assert [_title(c) for c in charts] == [heading for heading, _ in expected]
    waves = ["2023", "2024", "2025"]
    values = {(i, w): pct for i, w, pct in warehouse.execute(
        "select indicator_id, wave_id, pct from headline_indicators").fetchall()}
    breaks = {(i, w) for i, w in warehouse.execute(
        "select indicator_id, wave_id from indicator_trends where not comparable").fetchall()}
    assert breaks  # the demo has questions that changed
    for chart, (heading, ids) in zip(charts, expected):
        series = _series(chart)
        hidden = {int(e.find("c:idx", NS).get("val")) for e in chart.findall("c:chart/c:legend/c:legendEntry", NS)
                  if e.find("c:delete", NS) is not None and e.find("c:delete", NS).get("val") == "1"}
        in_legend = [s for n, s in enumerate(series) if n not in hidden]
        assert len(in_legend) == len(ids) and len({s["name"] for s in in_legend}) == len(ids), heading
        for legend, indicator in zip(in_legend, ids):
            question_id, option_id = indicator.split(".")
            composite = next((c for c in codebook.indicators.composites if c.id == indicator), None)
            short = composite.label if composite else next(
                o.shown_as for o in codebook.question(question_id).options if o.id == option_id)
            assert legend["name"].endswith(short) and not ID_LIKE.search(legend["name"])
            lines = [s for s in series if s["colour"] == legend["colour"]]  # its line, before and after breaks
            points = {}
            for line in lines:
                assert not set(points) & set(line["points"])
                points.update(line["points"])
                for k in range(1, len(waves)):
                    if (indicator, waves[k]) in breaks:
                        assert not {k - 1, k} <= set(line["points"]), (indicator, waves[k])
                    elif k - 1 in line["points"] and values.get((indicator, waves[k])) is not None:
                        assert k in line["points"]  # no break where the waves are comparable
            assert points == pytest.approx({k: values[(indicator, w)] / 100 for k, w in enumerate(waves)
                                            if values.get((indicator, w)) is not None}, abs=0.00051)  # one decimal
            assert len(lines) == 1 + sum((indicator, w) in breaks for w in waves[1:])


def test_every_sheet_prints_landscape_one_page_wide_with_its_charts_whole(demo_run, book):
    path = _pack_path(demo_run)
    for name in SHEETS:
        ws = book[name]
        setup = ws.page_setup
        assert setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToHeight == 0, name
        assert setup.fitToWidth in (None, 1), name  # absent is 1, the file format's default
        assert ws.print_area, name
        first_col, first_row, last_col, last_row = range_boundaries(ws.print_area.split("!")[-1])
        assert (first_col, first_row) == (1, 1)
        assert "SYNTHETIC" in ws.oddHeader.right.text, name
        header = next(r for r in range(1, 20) if ws.cell(r, 1).value in ("Indicator", "Sheet", "Term", "Trust"))
        repeated = ws.print_title_rows.replace("$", "").split(":")
        assert int(repeated[-1]) == header, name  # the table's header rows on every printed page
        assert last_col == _last_column(ws, header), name
        assert last_row >= max(r for r in range(header, ws.max_row + 1)
                               if ws.cell(r, 1).value not in (None, "")), name
        breaks = [b.id for b in ws.row_breaks.brk]  # a break after this (1-based) row
        charts = _anchors_and_charts(path, name)
        if charts:  # below the table, from the top of a new page
            assert min(where["from_row"] for where, _ in charts) in breaks, name
        for where, _ in charts:
            last_chart_col = where["to_col"] - (where["to_colOff"] == 0)
            last_chart_row = where["to_row"] - (where["to_rowOff"] == 0)
            assert last_chart_col < last_col and last_chart_row < last_row, (name, where)  # 0-based inside
            assert not [b for b in breaks if where["from_row"] < b <= last_chart_row], (name, where, breaks)
    charts = {name: len(_anchors_and_charts(path, name)) for name in SHEETS}
    assert charts["Headline"] >= 1 and charts["Trends"] >= 1


def test_the_synthetic_warning_opens_every_sheet(book):
    for name in SHEETS:
        top = " ".join(str(c.value) for row in book[name].iter_rows(max_row=3) for c in row if c.value)
        assert "SYNTHETIC" in top, name


def _write_workbook(con, codebook, wave_id: str, path, synthetic: bool = True):
    from publish.tables import breakdown_table, headline_table, trend_table
    from publish.workbook import write_workbook
    from warehouse.reports import loaded_waves

    loaded = loaded_waves(con, codebook.survey_id)
    trends = trend_table(con, codebook, loaded[: loaded.index(wave_id) + 1])
    breakdowns = {d: breakdown_table(con, codebook, wave_id, d) for d in ("trust_type", "region")}
    return write_workbook(path, codebook, wave_id, headline_table(con, codebook, wave_id), trends, breakdowns,
                          synthetic)


def _top(ws) -> str:
    """The lines above the sheet's table."""
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Indicator")
    return "\n".join(str(ws.cell(r, 1).value) for r in range(1, header) if ws.cell(r, 1).value)


def test_hidden_figures_are_marked_and_explained_above_the_table(demo_run, codebook, tmp_path):
    copy = tmp_path / "survey.duckdb"
    shutil.copyfile(demo_run.warehouse, copy)
    with connect(copy) as con:
        hidden = "pc_approach_stage.embedded_impact"
        con.execute("update headline_indicators set suppressed = true, pct = null, ci_low = null, ci_high = null "
                    "where wave_id = '2024' and indicator_id = ?", [hidden])
        cells = con.execute("select indicator_id, category, suppression from indicator_breakdowns where "
                            "wave_id = '2024' and dimension = 'trust_type' and suppressed").fetchall()
        shown_by_region = con.execute("select count(*) from indicator_breakdowns where wave_id = '2024' and "
                                      "dimension = 'region' and suppressed").fetchone()[0]
        book = load_workbook(_write_workbook(con, codebook, "2024", tmp_path / "pack.xlsx"))
    assert {why for _, _, why in cells} == {"small base", "secondary"} and shown_by_region == 0
    small, secondary = "fewer than 10 respondents answered", "cannot be worked out"
    ws = book["Headline"]
    header, _, rows, _ = _table(ws)
    assert ws.cell(rows[hidden], [c.value for c in ws[header]].index("%") + 1).value == "*"
    assert small in _top(ws) and secondary not in _top(ws)
    ws = book["Trends"]
    header, _, rows, _ = _table(ws)
    assert ws.cell(rows[hidden], _columns(ws, header, "2024")[0]).value == "*" and small in _top(ws)
    ws = book["By trust type"]
    header, _, rows, _ = _table(ws)
    legend = _top(ws).splitlines()
    assert any(line.startswith("* ") and small in line for line in legend)
    assert any(line.startswith("** ") and secondary in line for line in legend)
    for indicator, category, why in cells:
        if indicator in rows:
            pct_col, base_col = _columns(ws, header, category)
            marker = "*" if why == "small base" else "**"
            assert ws.cell(rows[indicator], pct_col).value == ws.cell(rows[indicator], base_col).value == marker
    assert small not in _top(book["By region"]) and secondary not in _top(book["By region"])


def test_breakdowns_say_which_groups_are_pooled(book, codebook):
    for name, dimension in (("By trust type", "trust_type"), ("By region", "region")):
        pooled = codebook.reporting.pooled_groups[dimension]
        top = _top(book[name])
        for group, reported_as in pooled.items():
            line = next(line for line in top.splitlines() if reported_as in line and group in line)
            assert line  # the pooled name and each group it combines, on one line above the table


def test_real_data_carry_no_warning(demo_run, codebook, tmp_path):
    copy = tmp_path / "survey.duckdb"
    shutil.copyfile(demo_run.warehouse, copy)
    with connect(copy) as con:  # as the pack reads the working database: with the warehouse's macros
        book = load_workbook(_write_workbook(con, codebook, "2025", tmp_path / "real.xlsx", synthetic=False))
    for ws in book:
        assert "SYNTHETIC" not in " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
        assert "SYNTHETIC" not in (ws.oddHeader.right.text or "") + (ws.oddHeader.left.text or "")
