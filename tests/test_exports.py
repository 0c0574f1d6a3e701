"""Every survey-tool layout loads to exactly the warehouse rows of the plain CSV it was built from."""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from exports import WaveFileRejected, read_export
from schemas.reference import load_trusts
from tests.conftest import SURVEY_ID, personal_values_in, read_sample, sample_wave_path
from tests.exports import BUILDERS
from validation.engine import validate_wave
from warehouse.connection import connect
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.indicators import compute_headline_indicators, write_headline_indicators
from warehouse.load import load_wave
from warehouse.pseudonyms import Pseudonymiser

WAVE = "2024"


def _warehouse_rows(path, codebook, resolver, db) -> dict[str, pd.DataFrame]:
    validation = validate_wave([path], codebook, WAVE, resolver)
    with connect(db) as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, WAVE, validation, run_id="test", pseudonymise=Pseudonymiser(b"k" * 32))
        write_headline_indicators(con, SURVEY_ID, WAVE, compute_headline_indicators(con, SURVEY_ID, WAVE, codebook.reporting))
        tables = {
            "respondents": con.execute("select * exclude (source_file, source_row) from respondents order by all").df(),
            "responses": con.execute("select * from responses order by all").df(),
            "headline_indicators": con.execute("select * from headline_indicators order by all").df(),
            "quarantine": con.execute("select * from quarantine").df(),
            "layout": con.execute("select layout from load_log").df(),
        }
    return tables


@pytest.fixture(scope="module")
def plain_rows(codebook, resolver, tmp_path_factory):
    return _warehouse_rows(sample_wave_path(WAVE), codebook, resolver, tmp_path_factory.mktemp("plain") / "w.duckdb")


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_layout_loads_like_the_plain_csv(layout, codebook, resolver, plain_rows, tmp_path):
    build, suffix = BUILDERS[layout]
    export = build(read_sample(WAVE), codebook.for_wave(WAVE), tmp_path / f"export{suffix}")
    rows = _warehouse_rows(export, codebook, resolver, tmp_path / "w.duckdb")
    assert rows["layout"]["layout"].tolist() == [layout.removesuffix("_xlsx").removesuffix("_mr_sets")]
    assert rows["quarantine"].empty, rows["quarantine"]["reason"].tolist()[:3]
    for table in ("respondents", "responses", "headline_indicators"):
        pd.testing.assert_frame_equal(rows[table], plain_rows[table], check_dtype=False, obj=f"{layout} {table}")
    sample = read_sample(WAVE)
    personal = set(sample["email"]) | set(sample["name"])
    name_parts = {part for name in sample["name"] for part in name.split(" ")}
    ips = {f"10.0.{n // 250}.{n % 250}" for n in range(len(sample))} | {f"192.0.2.{n % 250}" for n in range(len(sample))}
    assert personal_values_in(tmp_path / "w.duckdb", personal, whole_cells=name_parts | ips) == []


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_layout_is_detected_and_personal_data_is_dropped(layout, codebook, resolver, tmp_path):
    build, suffix = BUILDERS[layout]
    sample = read_sample(WAVE).head(15)
    export = build(sample, codebook.for_wave(WAVE), tmp_path / f"export{suffix}")
    assert read_export(export, codebook).layout == layout.removesuffix("_xlsx").removesuffix("_mr_sets")
    valid = validate_wave([export], codebook, WAVE, resolver).valid_rows()
    text = valid.to_csv()
    for value in list(sample["email"]) + [n.split(" ")[1] for n in sample["name"]]:
        assert value not in text


def test_forms_joined_labels_with_an_unknown_label_quarantine_the_row(codebook, resolver, tmp_path):
    from openpyxl import load_workbook

    export = BUILDERS["microsoft_forms"][0](read_sample(WAVE).head(12), codebook.for_wave(WAVE), tmp_path / "forms.xlsx")
    book = load_workbook(export)
    sheet = book.active
    column = [c.value for c in sheet[1]].index(codebook.question("trust_barriers").wording) + 1
    sheet.cell(row=5, column=column).value = "Operational pressures;Bad weather;"
    sheet.cell(row=7, column=3).value = None  # no completion time: an unfinished response
    book.save(export)
    result = validate_wave([export], codebook, WAVE, resolver)
    assert result.quarantine[["source_row", "column_name", "rule", "offending_value"]].values.tolist() == [
        [5, "trust_barriers", "allowed_option_label", "Bad weather"],
        [7, "(whole row)", "incomplete", "response not finished"],
        [7, "submitted_at", "required", None],
    ]
    assert result.rows_loaded == 10


def test_qualtrics_unfinished_responses_are_incomplete(codebook, resolver, tmp_path):
    export = BUILDERS["qualtrics"][0](read_sample(WAVE).head(12), codebook.for_wave(WAVE), tmp_path / "q.csv")
    with open(export, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[5][rows[0].index("Finished")] = "0"  # file row 6: the third response, left unfinished
    with open(export, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    result = validate_wave([export], codebook, WAVE, resolver)
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[6, "incomplete"]]
    assert result.rows_read == 12 and result.rows_loaded == 11


def test_partial_responses_count_when_the_codebook_says_so(codebook, resolver, tmp_path):
    export = BUILDERS["qualtrics"][0](read_sample(WAVE).head(12), codebook.for_wave(WAVE), tmp_path / "q.csv")
    with open(export, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[5][rows[0].index("Finished")] = "0"
    with open(export, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    counting = codebook.model_copy(update={"respondent": codebook.respondent.model_copy(update={"count_partial": True})})
    assert validate_wave([export], counting, WAVE, resolver).rows_loaded == 12


def test_headings_match_by_alias_and_by_the_tools_ids(codebook, resolver, tmp_path):
    """A questionnaire whose export headings differ from the codebook's wording: matched by the aliases
    and Qualtrics question ids the codebook lists, with the same result as the plain CSV."""
    questions = []
    for n, question in enumerate(codebook.questions, start=3):
        update = {"tool_ids": {"qualtrics": f"Q{n}"}} if question.type != "multiple" else {
            "aliases": (f"Short heading {n}",)}
        questions.append(question.model_copy(update=update))
    tuned = codebook.model_copy(update={"questions": tuple(questions)})
    export = BUILDERS["qualtrics"][0](read_sample(WAVE), tuned.for_wave(WAVE), tmp_path / "q.csv")
    with open(export, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for column, (field_id, wording) in enumerate(zip(rows[0], rows[1])):
        if re.fullmatch(r"Q\d+", field_id):
            rows[1][column] = "A heading nobody wrote in the codebook"  # only the id can match
        elif re.fullmatch(r"Q\d+_\d+", field_id):
            n = int(field_id[1:].split("_")[0])
            rows[1][column] = f"Short heading {n} - {wording.rsplit(' - ', 1)[1]}"
    with open(export, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    result = validate_wave([export], tuned, WAVE, resolver)
    assert result.rows_quarantined == 0 and result.rows_loaded == 142


def test_a_named_layout_is_used_and_an_unknown_one_refused(codebook, tmp_path):
    export = BUILDERS["qualtrics"][0](read_sample(WAVE).head(5), codebook.for_wave(WAVE), tmp_path / "q.csv")
    assert read_export(export, codebook.for_wave(WAVE), layout="qualtrics").layout == "qualtrics"
    with pytest.raises(WaveFileRejected, match="unknown layout 'limesurvey'"):
        read_export(export, codebook.for_wave(WAVE), layout="limesurvey")
    with pytest.raises(WaveFileRejected):
        read_export(export, codebook.for_wave(WAVE), layout="plain_csv")  # the wrong layout named: refused whole


def test_cells_converted_once_per_distinct_value_match_a_cell_by_cell_conversion():
    from exports.base import _as_text, map_distinct

    text = pd.Series(["Agree", None, "Agree", " Disagree ", float("nan"), "Agree"], dtype=object)
    assert map_distinct(text, _as_text).tolist() == ["Agree", None, "Agree", "Disagree", None, "Agree"]
    # A spreadsheet's cells mix types that hash alike (1 == 1.0 == True): each keeps its own text.
    mixed = pd.Series([1, True, 1.5, "1", None], dtype=object)
    assert map_distinct(mixed, _as_text).tolist() == ["1", "True", "1.5", "1", None]
    assert map_distinct(mixed, _as_text).index.equals(mixed.index)
