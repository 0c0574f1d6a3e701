"""The leadership pack: aggregates only, neutralised text, and a manifest that traces every number."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil

import duckdb
import pandas as pd
import pytest

from pipelines.settings import PROJECT_ROOT
from publish.pack import HEADLINE_CSV, MANIFEST, TRENDS_CSV, write_pack
from publish.safety import neutralise, neutralise_frame
from tests.conftest import read_sample
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
        assert hashlib.sha256(open(source["archived_as"], "rb").read()).hexdigest() == source["sha256"]
    assert manifest["synthetic_data"] is True
    assert manifest["codebook_version"] and manifest["code_version"]["package"]
    assert manifest["dagster_run_id"]


def test_no_free_text_and_no_respondent_row_in_the_pack(demo_run):
    text = "".join(p.read_text() for p in _pack_dir(demo_run).iterdir())
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
        out = write_pack(con, codebook, tmp_path / "publish", "test-run", PROJECT_ROOT)
    with open(out / HEADLINE_CSV, newline="") as handle:
        labels = {row["indicator"]: row["label"] for row in csv.DictReader(handle)}
    assert labels["respondents"].startswith("'=HYPERLINK")
