"""The leadership pack: aggregates only, neutralised text, and a manifest that traces every number."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil

import duckdb
import pandas as pd
import pytest

from home.settings import PROJECT_ROOT
from publish.pack import HEADLINE_CSV, MANIFEST, TRENDS_CSV, write_pack
from publish.safety import neutralise, neutralise_frame
from tests.conftest import SURVEY_ID, read_sample
from warehouse.connection import connect

PACK = ("improvement-journey", "2025")


@pytest.mark.parametrize("dangerous", ["=1+1", "+44 20 7946 0000", "-2", "@SUM(A1)", "\tx", "\rx",
                                       "=HYPERLINK(\"http://example.org\")"])
def test_formula_like_text_is_neutralised(dangerous):
    assert neutralise(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["Operational pressures", "Don't know", 12.5, -3, None, "a=b"])
def test_other_cells_are_left_alone(harmless):
    assert neutralise(harmless) == harmless


def test_a_frame_keeps_its_numbers(codebook):
    frame = pd.DataFrame({"label": ["=cmd", "fine"], "pct": [-1.5, 20.0]})
    safe = neutralise_frame(frame)
    assert safe["label"].tolist() == ["'=cmd", "fine"] and safe["pct"].tolist() == [-1.5, 20.0]


def _pack_dir(demo_run):
    return demo_run.home / "publish" / PACK[0] / PACK[1]


def test_the_pack_holds_the_warehouse_numbers(demo_run):
    out = _pack_dir(demo_run)
    headline = pd.read_csv(out / HEADLINE_CSV)
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        stored = con.execute("select indicator_id, pct, base from headline_indicators where wave_id = '2025'").df()
    merged = headline.merge(stored, left_on="indicator", right_on="indicator_id")
    assert len(merged) == len(headline) == 27
    shares = merged[merged["pct"].notna()]
    assert (shares["percentage"] - shares["pct"]).abs().max() <= 0.05  # rounded to one decimal
    trends = pd.read_csv(out / TRENDS_CSV)
    assert list(trends.columns) == ["indicator", "2023", "2024", "2025"]
    row = trends.set_index("indicator").loc["trust_approach_stage.embedded"]
    assert round(row["2023"]) == 22  # the published figure, through the pack
    not_comparable = headline.set_index("indicator").loc["trust_barriers.operational_pressures"]
    assert pd.isna(not_comparable["change_points"]) and "not comparable" in not_comparable["note"]


def test_the_manifest_traces_files_and_inputs(demo_run):
    out = _pack_dir(demo_run)
    manifest = json.loads((out / MANIFEST).read_text())
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    assert {i["wave_id"] for i in manifest["inputs"]} == {"2023", "2024", "2025"}
    for source in manifest["inputs"]:
        assert hashlib.sha256((demo_run.home / source["archived_as"]).read_bytes()).hexdigest() == source["sha256"]
    assert manifest["synthetic_data"] is True
    assert manifest["codebook_version"] and manifest["code_version"]["package"]
    assert manifest["dagster_run_id"]


def _strings(value):
    """Every string of a JSON document, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _host_paths(strings, *homes) -> list[str]:
    """Strings that name a place on the host: absolute paths (POSIX, home-relative or Windows) or a home."""
    return [s for s in strings if s.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", s)
            or any(str(h) in s for h in homes)]


def test_the_manifest_names_no_host_path_and_its_inputs_are_in_the_home(demo_run):
    manifest = json.loads((_pack_dir(demo_run) / MANIFEST).read_text())
    assert _host_paths(_strings(manifest), demo_run.home, demo_run.home.resolve()) == []
    assert manifest["paths_relative_to"] == "survey home"
    assert manifest["folder"] == "publish/improvement-journey/2025"
    assert len(manifest["inputs"]) == 3
    for source in manifest["inputs"]:
        archived = demo_run.home / source["archived_as"]
        assert archived.is_file() and archived.is_relative_to(demo_run.home / "archive")
        assert hashlib.sha256(archived.read_bytes()).hexdigest() == source["sha256"]


def test_archive_paths_recorded_absolute_or_relative_are_named_relative_to_the_home(demo_run, codebook, tmp_path):
    """load_log has recorded archived copies as absolute paths; it may record them relative to the home.
    The manifest names both relative to the home, as it does a path of a home that has since moved."""
    home = tmp_path / "home"
    shutil.copytree(demo_run.home / "archive", home / "archive")
    copy = tmp_path / "survey.duckdb"
    shutil.copyfile(demo_run.warehouse, copy)
    with connect(copy) as con:
        tails = dict(con.execute("select wave_id, archived_as from load_log").fetchall())  # inside the home
        assert all(tail.startswith(f"archive/{SURVEY_ID}/") for tail in tails.values())
        recorded = {"2023": tails["2023"],  # relative, as the home records it
                    "2024": str(home / tails["2024"]),  # absolute, in this home (as loads once recorded it)
                    "2025": str(demo_run.home / tails["2025"])}  # absolute, in the home this one was copied from
        for wave_id, path in recorded.items():
            con.execute("update load_log set archived_as = ? where wave_id = ?", [path, wave_id])
        pack = write_pack(con, codebook, home, "test-run", PROJECT_ROOT)
    manifest = json.loads((home / pack.folder / MANIFEST).read_text())
    assert {i["wave_id"]: i["archived_as"] for i in manifest["inputs"]} == tails
    assert _host_paths(_strings(manifest), home, demo_run.home) == []
    for source in manifest["inputs"]:
        assert hashlib.sha256((home / source["archived_as"]).read_bytes()).hexdigest() == source["sha256"]


def test_the_pack_says_in_dagster_what_it_writes_for_which_wave(demo_run):
    import dagster as dg

    from home.settings import SurveyHome
    from pipelines.definitions import build_definitions
    from pipelines.instance import instance_for

    files = ("leadership_pack.xlsx", "brief.html", "headline_indicators.csv", "indicator_trends.csv", "manifest.json")
    key = dg.AssetKey("leadership_pack")
    description = build_definitions(demo_run.home).resolve_asset_graph().get(key).description
    assert all(name in description for name in files), description
    with instance_for(SurveyHome(demo_run.home)) as instance:
        metadata = instance.fetch_materializations(key, limit=1).records[0].asset_materialization.metadata
    assert metadata["packs"].value == "improvement-journey wave 2025"
    assert metadata["paths_relative_to"].value == "survey home"
    assert isinstance(metadata["files"], dg.MarkdownMetadataValue)
    listed = metadata["files"].value
    for name in files:
        assert f"| improvement-journey | 2025 | `publish/improvement-journey/2025/{name}` |" in listed
        assert (demo_run.home / "publish" / "improvement-journey" / "2025" / name).is_file()
    assert str(demo_run.home) not in listed
    assert isinstance(metadata["headline_indicators"], dg.MarkdownMetadataValue)
    preview = metadata["headline_indicators"].value
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        label, pct, base = con.execute("select label, pct, base from headline_indicators where wave_id = '2025' "
                                       "and indicator_id = 'trust_approach_stage.embedded'").fetchone()
    assert f"| {label} | {pct:.1f} | " in preview and f" | {base} | " in preview
    assert preview.count("\n| ") == 1 + 27  # the header row and the 27 headline indicators


def test_no_free_text_and_no_respondent_row_in_the_pack(demo_run):
    from openpyxl import load_workbook

    out = _pack_dir(demo_run)
    text = "".join(p.read_text() for p in out.iterdir() if p.suffix in (".csv", ".json"))
    for workbook in out.glob("*.xlsx"):
        text += " ".join(str(c.value) for sheet in load_workbook(workbook) for row in sheet.iter_rows() for c in row)
    for wave_id in ("2023", "2024", "2025"):
        raw = read_sample(wave_id)
        for value in set(raw["comments"].dropna()) | set(raw["respondent_id"]) | set(raw["email"]):
            assert value not in text
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        pseudonyms = {r for (r,) in con.execute("select respondent_id from respondents").fetchall()}
    assert not any(p in text for p in pseudonyms)


def test_labels_from_outside_are_neutralised_in_the_csv(demo_run, codebook, tmp_path):
    copy = tmp_path / "survey.duckdb"
    shutil.copyfile(demo_run.warehouse, copy)
    with connect(copy) as con:
        con.execute("update headline_indicators set label = '=HYPERLINK(\"http://example.org\",\"x\")' "
                    "where indicator_id = 'respondents'")
        out = tmp_path / write_pack(con, codebook, tmp_path, "test-run", PROJECT_ROOT).folder
    with open(out / HEADLINE_CSV, newline="") as handle:
        labels = {row["indicator"]: row["label"] for row in csv.DictReader(handle)}
    assert labels["respondents"].startswith("'=HYPERLINK")
    from openpyxl import load_workbook

    from publish.pack import WORKBOOK

    cells = [c for row in load_workbook(out / WORKBOOK)["Headline"].iter_rows() for c in row]
    injected = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert injected and all(c.value.startswith("'=") and c.data_type == "s" for c in injected)


def _charts_by_sheet(path) -> dict[str, int]:
    """Native charts per worksheet, read from the workbook's parts (openpyxl does not load charts)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as book:
        names = book.namelist()
        workbook = book.read("xl/workbook.xml").decode()
        rels = book.read("xl/_rels/workbook.xml.rels").decode()
        sheet_files = {}
        for name, rel in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', workbook):
            sheet_files[name] = re.search(rf'Id="{rel}"[^>]*Target="([^"]+)"', rels).group(1).split("/")[-1]
        charts = {}
        for name, sheet_file in sheet_files.items():
            rel_file = f"xl/worksheets/_rels/{sheet_file}.rels"
            count = 0
            if rel_file in names:
                for drawing in re.findall(r'Target="\.\./drawings/([^"]+)"', book.read(rel_file).decode()):
                    drawing_rels = book.read(f"xl/drawings/_rels/{drawing}.rels").decode()
                    count += len(re.findall(r"charts/chart\d+\.xml", drawing_rels))
            charts[name] = count
    return charts


def test_the_workbook_has_its_sheets_numbers_and_charts(demo_run):
    from openpyxl import load_workbook

    from publish.pack import WORKBOOK

    path = _pack_dir(demo_run) / WORKBOOK
    book = load_workbook(path)
    assert book.sheetnames == ["Contents", "Headline", "Trends", "By trust type", "By region", "Notes"]
    headline = book["Headline"]
    assert headline.freeze_panes == "B2"
    rows = {r[0].value: r for r in headline.iter_rows(min_row=2)}
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        pct, base = con.execute("select pct, base from headline_indicators where wave_id = '2025' and "
                                "indicator_id = 'trust_approach_stage.embedded'").fetchone()
    label = next(k for k in rows if k and k.startswith("Trust's improvement approach: We have largely"))
    cell = rows[label][1]
    assert isinstance(cell.value, float) and "%" in cell.number_format
    assert cell.value == pytest.approx(pct / 100, abs=0.0006)
    assert rows[label][4].value == base
    trends = book["Trends"]
    assert [c.value for c in trends[1]][:4] == ["Indicator", "2023", "2024", "2025"]
    first = {r[0].value: r for r in trends.iter_rows(min_row=2)}["trust_approach_stage.embedded"]
    assert round(first[1].value * 100) == 22 and "%" in first[1].number_format
    assert "SYNTHETIC" in " ".join(str(c.value) for row in book["Notes"].iter_rows() for c in row)
    assert "*" in {c.value for row in book["By trust type"].iter_rows(min_row=2) for c in row}  # suppressed cells
    charts = _charts_by_sheet(path)
    assert charts["Headline"] >= 1 and charts["Trends"] >= 1


def _chromium() -> str | None:
    import os

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI"):
        pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
    return found


# Chromium's own background services (sign-in, time, suggestions) that it contacts whatever the page does.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")


def test_the_brief_renders_offline_in_headless_chromium(demo_run, tmp_path):
    import subprocess

    from publish.pack import BRIEF

    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium not installed here (CI installs it)")
    brief = _pack_dir(demo_run) / BRIEF
    page = brief.read_text()
    for external in ("src=\"http", "href=\"http", "url(http", "@import", "<script", "<link"):
        assert external not in page  # nothing to fetch: charts are inline SVG, styles inline
    screenshot, netlog = tmp_path / "brief.png", tmp_path / "netlog.json"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400", f"--log-net-log={netlog}",
         f"--screenshot={screenshot}", brief.as_uri()],
        check=True, capture_output=True, timeout=120)
    from PIL import Image

    image = Image.open(screenshot).convert("L")
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 50  # text and charts, not a blank page
    dark = sum(n for n, level in colours if level < 128)
    assert dark > 0.01 * image.width * image.height
    urls = set(re.findall(r'"url":"([^"]+)"', netlog.read_text()))
    page_requests = {u for u in urls if not u.startswith("file:") and not any(h in u for h in BROWSER_HOSTS)}
    assert page_requests == set()
    pdf = tmp_path / "brief.pdf"  # leadership print it: it must print
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", brief.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000


def _row(**changes):
    from types import SimpleNamespace

    row = dict(label="Barriers: Operational pressures", percentage=75.2, numerator=97, base=129,
               previous_wave="2023", change_points=4.0, significant_at_5pct="no", note="")
    row.update(changes)
    return SimpleNamespace(**row)


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, "75% of respondents (97 of 129): Barriers: Operational pressures. 71% said so in 2023, "
         "a difference that is not statistically significant."),
    ({"significant_at_5pct": "yes", "change_points": 14.0}, "61% said so in 2023, a statistically significant rise."),
    ({"significant_at_5pct": "yes", "change_points": -14.0}, "89% said so in 2023, a statistically significant fall."),
    ({"note": "change not comparable: the question changed", "change_points": float("nan")},
     "Not comparable with 2023: the question changed."),
    ({"percentage": float("nan"), "note": "suppressed: fewer than 10 answered"},
     "too few respondents answered to report a percentage."),
])
def test_findings_call_a_change_a_rise_or_fall_only_when_significant(changes, expected):
    from publish.brief import finding

    sentence = finding(_row(**changes), "2025")
    assert sentence.endswith(expected)
    if changes.get("significant_at_5pct") != "yes":
        assert "rise" not in sentence and "fall" not in sentence


def test_trend_charts_need_two_waves_and_keep_their_labels_as_text():
    import pandas as pd

    from publish.brief import across_waves

    one_wave = pd.DataFrame({"indicator": ["approach.embedded"], "2023": [21.0]})
    assert "<svg" not in across_waves(one_wave) and "Only one wave so far" in across_waves(one_wave)
    two_waves = pd.DataFrame({"indicator": ["approach.embedded", "barriers.pressures"],
                              "2023": [21.0, 70.0], "2024": [25.0, 75.0]})
    chart = across_waves(two_waves)
    assert chart.count("<svg") == 1
    # Titles and wave labels are text a screen reader can read, not glyph outlines.
    assert ">approach.embedded</text>" in chart and ">2024</text>" in chart
