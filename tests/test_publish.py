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
from publish.safety import FORMULA_STARTS, neutralise, neutralise_frame
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
        trended = con.execute("select h.indicator_id, h.wave_id, h.pct, h.base, t.comparable "
                              "from headline_indicators h join indicators i using (survey_id, indicator_id) "
                              "left join indicator_trends t using (survey_id, indicator_id, wave_id) "
                              "where i.headline_order is not null and survey_id = ?", [SURVEY_ID]).df()
    merged = headline.merge(stored, left_on="indicator", right_on="indicator_id")
    assert len(merged) == len(headline) == 27
    shares = merged[merged["pct"].notna()]
    assert (shares["percentage"] - shares["pct"]).abs().max() <= 0.05  # rounded to one decimal
    assert (merged["base_x"].fillna(-1) == merged["base_y"].fillna(-1)).all()
    trends = pd.read_csv(out / TRENDS_CSV, dtype={"wave": str, "previous_wave": str})
    assert len(trends) == len(trended) == 27 * 3  # one row per headline indicator and wave
    row = trends.set_index(["indicator", "wave"]).loc[("trust_approach_stage.embedded", "2023")]
    assert round(row["percentage"]) == 22  # the published figure, through the pack
    both = trends.merge(trended, left_on=["indicator", "wave"], right_on=["indicator_id", "wave_id"])
    assert len(both) == len(trends)
    assert (both["base_x"].fillna(-1) == both["base_y"].fillna(-1)).all()
    assert (both["percentage"] - both["pct"]).abs().max() <= 0.05
    assert (both["comparable_x"] == both["comparable_y"].fillna(True)).all()
    assert not both.loc[~both["comparable_x"], "change_points"].notna().any()  # no change across a break
    not_comparable = headline.set_index("indicator").loc["trust_barriers.operational_pressures"]
    assert pd.isna(not_comparable["change_points"]) and "not comparable" in not_comparable["note"]


def test_the_csv_files_label_every_id_count_in_whole_numbers_and_say_synthetic(demo_run, codebook):
    out = _pack_dir(demo_run)
    for name in (HEADLINE_CSV, TRENDS_CSV):
        with open(out / name, newline="") as handle:
            rows = list(csv.DictReader(handle))
        columns = list(rows[0])
        assert columns.index("label") == columns.index("indicator") + 1, name  # the label beside the id
        assert {r["synthetic"] for r in rows} == {"true"}, name  # a file forwarded alone still says so
        for column in ("numerator", "base", "change_count"):
            assert all(re.fullmatch(r"-?\d*", r[column]) for r in rows), (name, column)  # never "129.0"
        assert any(r["base"] for r in rows) and any(r["change_count"] for r in rows)
        labels = {r["indicator"]: r["label"] for r in rows}
        for indicator, label in labels.items():
            assert label and label != indicator and not re.search(r"\b[a-z]+(_[a-z]+)+\b", label)
        question = codebook.question("trust_approach_stage")
        assert labels["trust_approach_stage.embedded"] == f"{question.title}: {question.options[0].label}"
    with open(out / HEADLINE_CSV, newline="") as handle:
        counts = {r["indicator"]: r for r in csv.DictReader(handle)}
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        count, change = con.execute("select value, change from indicator_trends where wave_id = '2025' "
                                    "and indicator_id = 'respondents'").fetchone()
    respondents = counts["respondents"]
    assert (respondents["numerator"], respondents["change_count"]) == (f"{count:.0f}", f"{change:.0f}")


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
        tails = dict(con.execute("select wave_id, archived_as from load_log where survey_id = ?",  # inside the home
                                 [SURVEY_ID]).fetchall())
        assert all(tail.startswith(f"archive/{SURVEY_ID}/") for tail in tails.values())
        recorded = {"2023": tails["2023"],  # relative, as the home records it
                    "2024": str(home / tails["2024"]),  # absolute, in this home (as loads once recorded it)
                    "2025": str(demo_run.home / tails["2025"])}  # absolute, in the home this one was copied from
        for wave_id, path in recorded.items():
            con.execute("update load_log set archived_as = ? where survey_id = ? and wave_id = ?", [path, SURVEY_ID, wave_id])
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
    with instance_for(SurveyHome(demo_run.home)) as instance:  # each survey's pack, written by its own run
        records = instance.fetch_materializations(key, limit=2).records
    by_survey = {r.asset_materialization.metadata["packs"].value: r.asset_materialization.metadata for r in records}
    assert set(by_survey) == {"improvement-journey wave 2025", "staff-pulse wave 2026Q3"}  # each latest wave
    for (survey_id, wave_id), metadata in zip((("improvement-journey", "2025"), ("staff-pulse", "2026Q3")),
                                              (by_survey["improvement-journey wave 2025"],
                                               by_survey["staff-pulse wave 2026Q3"])):
        assert metadata["paths_relative_to"].value == "survey home"
        assert isinstance(metadata["files"], dg.MarkdownMetadataValue)
        listed = metadata["files"].value
        for name in files:
            assert f"| {survey_id} | {wave_id} | `publish/{survey_id}/{wave_id}/{name}` |" in listed
            assert (demo_run.home / "publish" / survey_id / wave_id / name).is_file()
        assert str(demo_run.home) not in listed
        assert isinstance(metadata["headline_indicators"], dg.MarkdownMetadataValue)
    board = by_survey["improvement-journey wave 2025"]["headline_indicators"].value
    staff = by_survey["staff-pulse wave 2026Q3"]["headline_indicators"].value
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        label, pct, base = con.execute("select label, pct, base from headline_indicators where wave_id = '2025' "
                                       "and indicator_id = 'trust_approach_stage.embedded'").fetchone()
    assert f"| {label} | {pct:.1f} | " in board and f" | {base} | " in board
    assert board.count("\n| ") == 1 + 27  # the header row and the 27 headline indicators
    assert staff.count("\n| ") == 1 + 13  # and the staff pulse's 13


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
    """A question title from a codebook and a group name from the reference list, shaped as formulas."""
    from openpyxl import load_workbook

    from publish.pack import WORKBOOK
    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook

    formula = '=HYPERLINK("http://example.org","x")'
    text = (BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text()
    assert text.count("title: Barriers to improvement at the trust\n") == 1
    (tmp_path / "codebook.yaml").write_text(text.replace("title: Barriers to improvement at the trust\n",
                                                         f"title: '{formula}'\n"))
    changed = load_codebook(tmp_path / "codebook.yaml")
    copy = tmp_path / "survey.duckdb"
    shutil.copyfile(demo_run.warehouse, copy)
    with connect(copy) as con:
        con.execute("update indicator_breakdowns set category = '@SUM(1)' where category = 'Ambulance Trusts'")
        out = tmp_path / write_pack(con, changed, tmp_path, "test-run", PROJECT_ROOT).folder
    for name in (HEADLINE_CSV, TRENDS_CSV):
        with open(out / name, newline="") as handle:
            labels = {row["indicator"]: row["label"] for row in csv.DictReader(handle)}
        assert labels["trust_barriers.workforce_capacity"].startswith("'=HYPERLINK"), name
    book = load_workbook(out / WORKBOOK)
    for sheet, injected in (("Headline", formula), ("Trends", formula), ("By trust type", "@SUM(1)")):
        cells = [c for row in book[sheet].iter_rows() for c in row if isinstance(c.value, str) and injected in c.value]
        assert any(c.value.startswith("'" + injected) for c in cells), sheet  # a label or group name, made text
        assert all(c.data_type == "s" and not c.value.startswith(FORMULA_STARTS) for c in cells), sheet


def test_a_survey_whose_codebook_lists_no_headline_gets_a_pack_of_every_indicator(tmp_path):
    """The scale, numeric and routed test survey lists no headline: its headline is every indicator of the
    catalogue, in questionnaire order, means and medians included, and its pack is written whole, also when
    the wave is computed again."""
    from typer.testing import CliRunner

    from pipelines.cli import app
    from tests.conftest import write_csv
    from tests.test_scales import CODEBOOK, wave_frame

    (tmp_path / "codebooks").mkdir()
    shutil.copyfile(CODEBOOK, tmp_path / "codebooks" / CODEBOOK.name)
    write_csv(wave_frame(), tmp_path / "landing" / "scales-test" / "2026Q1" / "pulse.csv")
    for command in (["run"], ["run", "--force"]):
        result = CliRunner().invoke(app, [*command, "--home", str(tmp_path)])
        assert result.exit_code == 0, result.output
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        headline = [i for (i,) in con.execute("select indicator_id from indicators where survey_id = 'scales-test' "
                                              "and headline_order is not null "
                                              "order by headline_order").fetchall()]
    # the codebook's first question's options, in order, then its positive score and score (the grid's first item) ...
    assert headline[:7] == [f"eng_enthusiastic.{o}" for o in ("strongly_disagree", "disagree", "neither", "agree",
                                                             "strongly_agree", "positive", "score")]
    # ... its composites and theme, then the built-in counts and coverage last
    assert headline[-6:] == ["qi_training_useful.useful", "recommend_0_10.top_box", "engagement.score",
                             "respondents", "trusts_responding", "trust_coverage"]
    assert {"unpaid_hours.mean", "unpaid_hours.median"} <= set(headline)
    written = pd.read_csv(tmp_path / "publish" / "scales-test" / "2026Q1" / HEADLINE_CSV).set_index("indicator")
    assert list(written.index) == headline  # every one in the pack, in order
    score = written.loc["engagement.score"]  # worked out in tests/test_scales.py from its rows
    assert score["kind"] == "mean" and score["value"] == pytest.approx((100 / 3 + 28.75) / 10, abs=0.005)
    assert (tmp_path / "publish" / "scales-test" / "2026Q1" / "leadership_pack.xlsx").stat().st_size > 0
