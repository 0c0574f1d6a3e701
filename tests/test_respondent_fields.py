"""Respondent fields beyond the first (``schemas/respondent.py``): a second field, optional and offered from a
later wave; pooled field groups; the codebook's refusals; and a theme whose item a wave did not ask.

The rows are ``tests/test_scales.py``'s dozen (typed in there) under its test codebook with a second field,
``band``, given to some respondents; the expectations are worked out by hand from them."""

from __future__ import annotations

import copy
import re

import pandas as pd
import pytest
import yaml

from publish.findings import brief_content, brief_figures
from schemas.codebook_files import CodebookError, load_codebook
from schemas.reference import load_trusts
from tests.conftest import write_csv
from tests.test_scales import CODEBOOK, PSEUDONYMISE, wave_frame
from validation.engine import validate_wave
from warehouse.breakdowns import compute_indicator_breakdowns
from warehouse.connection import connect
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.indicators import compute_headline_indicators, write_headline_indicators
from warehouse.load import load_wave
from warehouse.trends import compute_indicator_trends

SURVEY = "scales-test"
BAND = {"column": "band", "title": "Band", "wording": "What is your band?", "required": False, "options": [
    {"id": "band_5", "label": "Band 5"}, {"id": "band_6", "label": "Band 6"},
    {"id": "band_7", "label": "Band 7", "asked_from": "2026Q2"}]}


def _raw(**reporting) -> dict:
    raw = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    raw["waves"].append({"id": "2026Q2", "fieldwork_start": "2026-04-01", "fieldwork_end": "2026-04-30",
                         "population_trusts": 24, "synthetic": True})
    raw["respondent"]["fields"].append(copy.deepcopy(BAND))
    raw["reporting"].update(breakdowns=["occupational_group", "band"], **reporting)
    return raw


def _codebook(tmp_path, raw: dict):
    path = tmp_path / "two-fields.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_codebook(path)


def _frame(wave_id: str, bands: dict[str, str]) -> pd.DataFrame:
    frame = wave_frame()
    if wave_id == "2026Q2":
        frame["submitted_at"] = frame["submitted_at"].str.replace("2026-01-", "2026-04-")
    frame["band"] = frame["respondent_id"].map(bands)  # the others leave the optional field blank
    return frame


def _load(con, codebook, wave_id, frame, folder, resolver):
    validation = validate_wave([write_csv(frame, folder / f"{wave_id}.csv")], codebook, wave_id, resolver)
    load_wave(con, codebook, wave_id, validation, run_id=f"run-{wave_id}", pseudonymise=PSEUDONYMISE)
    write_headline_indicators(con, SURVEY, wave_id, compute_headline_indicators(con, SURVEY, wave_id, codebook.reporting))
    return validation


def test_a_second_optional_field_is_stored_broken_down_and_pooled_by_label(tmp_path, resolver):
    codebook = _codebook(tmp_path, _raw(pooled_groups={"band": {"Band 6": "Band 6 or 7", "Band 7": "Band 6 or 7"}}))
    bands = {"r01": "Band 5", "r02": "Band 5", "r03": "Band 6", "r05": "Band 6", "r08": "Band 6"}
    with connect(tmp_path / "w.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        validation = _load(con, codebook, "2026Q1", _frame("2026Q1", bands), tmp_path, resolver)
        stored = con.execute("SELECT field_id, count(*) FROM respondent_fields GROUP BY ALL ORDER BY 1").fetchall()
        cells = compute_indicator_breakdowns(con, SURVEY, "2026Q1", codebook.reporting)
    assert validation.rows_quarantined == 1  # r11, "None of these" with another option, as in test_scales
    assert stored == [("band", 5), ("occupational_group", 11)]  # the blank optional field stores nothing
    score = cells[(cells["indicator_id"] == "eng_enthusiastic.score") & (cells["dimension"] == "band")]
    # Band 5: r01 SA 10, r02 A 7.5; Band 6 or 7 (pooled): r03 N 5, r05 SA 10, r08 SD 0
    assert dict(zip(score["category"], score["value"])) == {"Band 5": 8.75, "Band 6 or 7": pytest.approx(5.0)}


def test_a_field_option_is_refused_in_a_wave_before_it_was_offered(tmp_path, resolver):
    codebook = _codebook(tmp_path, _raw())
    frame = _frame("2026Q1", {"r01": "Band 7", "r02": "Band 5"})
    validation = validate_wave([write_csv(frame, tmp_path / "q1.csv")], codebook, "2026Q1", resolver)
    refused = validation.quarantine[validation.quarantine["column_name"] == "band"]
    assert list(refused["rule"]) == ["allowed_option_label"] and list(refused["source_row"]) == [2]
    later = validate_wave([write_csv(_frame("2026Q2", {"r01": "Band 7"}), tmp_path / "q2.csv")], codebook, "2026Q2",
                          resolver)
    assert not (later.quarantine["column_name"] == "band").any()


def test_an_optional_fields_column_may_be_missing(tmp_path, resolver):
    codebook = _codebook(tmp_path, _raw())
    frame = wave_frame()  # no band column at all
    validation = validate_wave([write_csv(frame, tmp_path / "w.csv")], codebook, "2026Q1", resolver)
    assert validation.rows_loaded == 11


@pytest.mark.parametrize(("change", "refusal"), [
    (lambda r: r["respondent"]["fields"][1]["options"].append({"id": "band_8", "label": "band 5"}),
     "option labels of 'band' must be unique"),
    (lambda r: r["respondent"]["fields"][1].update(column="region"), "named like a breakdown of the trust reference"),
    (lambda r: r["respondent"]["fields"][1]["options"][2].update(asked_from="2027Q1"), "names waves that are not declared"),
    (lambda r: r["reporting"].update(pooled_groups={"band": {"band_6": "Senior"}}), "names ['band_6'], which are not labels"),
])
def test_a_field_the_codebook_cannot_use_is_refused(tmp_path, change, refusal):
    raw = _raw()
    change(raw)
    with pytest.raises(CodebookError, match=re.escape(refusal)):
        _codebook(tmp_path, raw)


def test_the_brief_of_a_wave_that_did_not_ask_one_of_a_themes_items_is_made(tmp_path, resolver):
    """The theme is not scored in that wave (its items were not all asked); its asked items are told."""
    raw = _raw()
    item = next(q for q in raw["questions"] if q.get("id") == "improve_ideas")
    item["asked_from"] = "2026Q2"  # the theme's third item, asked only later
    codebook = _codebook(tmp_path, raw)
    frame = _frame("2026Q1", {}).drop(columns=["improve_ideas"])
    with connect(tmp_path / "w.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        _load(con, codebook, "2026Q1", frame, tmp_path, resolver)
        con.register("trends", compute_indicator_trends(con, codebook))
        con.execute("INSERT INTO indicator_trends BY NAME SELECT * FROM trends")
        content = brief_content(brief_figures(con, SURVEY, "2026Q1"), codebook, "2026Q1")
    lines = [f.sentence for s in content.sections for f in s.findings]
    assert not any("theme score" in line for line in lines)
    # r01-r12 but r07 (blank) and r11 (refused): SA A N D SA A SD A A N, six positive, mean 62.5 / 10
    assert "Enthusiastic about my job, of the 10 who answered: positive 60%; score 6.2 out of 10." in lines
