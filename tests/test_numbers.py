"""Numeric questions (``schemas/numbers.py``, ``type: numeric`` in ``schemas/questions.py``): which text is a
number, the rule ``numeric_value``, numbers stored as numbers in ``numeric_responses``, and their means,
medians and top boxes.

Every expected number and refusal is typed in by hand below, beside the text it comes from."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from schemas.codebook import Codebook
from schemas.codebook_files import load_codebook
from schemas.numbers import canonical_number
from schemas.reference import load_trusts
from tests.conftest import write_csv
from validation.engine import validate_wave
from warehouse.benchmarks import write_trust_benchmarks
from warehouse.breakdowns import compute_indicator_breakdowns, compute_trust_coverage
from warehouse.connection import connect, replace_wave_rows
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.indicators import compute_headline_indicators, write_headline_indicators
from warehouse.load import load_wave
from warehouse.pseudonyms import Pseudonymiser
from warehouse.publication import publish_snapshot

CODEBOOK = Path(__file__).parent / "codebooks" / "scales-test.yaml"
SURVEY, WAVE = "scales-test", "2026Q1"
PSEUDONYMISE = Pseudonymiser(b"a key for tests only, 32 bytes..")


@pytest.mark.parametrize("text, integer, bounds, number", [
    ("7", True, (0, 80), "7"),
    (" 7 ", True, (0, 80), "7"),  # spaces around it
    ("+7", True, (0, 80), "7"),  # a leading plus
    ("7.0", True, (0, 80), "7"),  # a decimal point followed by zeros is whole
    ("7.000", True, (0, 80), "7"),
    ("007", True, (0, 80), "7"),
    ("0", True, (0, 80), "0"),
    ("80", True, (0, 80), "80"),  # both bounds inclusive
    ("-0", True, (0, 80), "0"),
    ("-3", True, (None, None), "-3"),
    ("0.5", False, (0.1, 1), "0.5"),
    ("0.50", False, (0.1, 1), "0.5"),
    ("1", False, (0.1, 1), "1"),
    ("0.1", False, (0.1, 1), "0.1"),
    ("123456789012345", True, (None, None), "123456789012345"),  # 15 digits
    ("0001234567.89012300", False, (None, None), "1234567.890123"),  # 13, leading and trailing zeros aside
])
def test_a_plain_decimal_number_is_read_as_its_number(text, integer, bounds, number):
    assert canonical_number(text, integer, *bounds) == number


@pytest.mark.parametrize("text, integer, bounds", [
    ("7e1", True, (0, 80)),  # an exponent
    ("7E1", False, (None, None)),
    ("7,5", False, (None, None)),  # a decimal comma
    ("1,000", True, (None, None)),  # a thousands separator
    ("1 000", True, (None, None)),
    ("seven", True, (0, 80)),
    ("7 hours", True, (0, 80)),
    ("7.", True, (0, 80)),  # a point with no digit after it
    (".5", False, (0, 1)),
    ("7.5", True, (0, 80)),  # not whole
    ("81", True, (0, 80)),  # above max
    ("-1", True, (0, 80)),  # below min
    ("0.05", False, (0.1, 1)),
    ("1.01", False, (0.1, 1)),
    ("\u0667", True, (0, 80)),  # an Arabic-Indic seven: a digit to Python's \d, not a plain decimal number
    ("", True, (0, 80)),
    ("nan", False, (None, None)),
    ("inf", False, (None, None)),
    ("0x10", True, (None, None)),
    ("1234567890123456", True, (None, None)),  # 16 digits: a double would not hold them exactly
    ("1" + "0" * 400, True, (None, None)),  # a double would hold infinity
])
def test_anything_else_is_no_number(text, integer, bounds):
    assert canonical_number(text, integer, *bounds) is None


def _raw() -> dict:
    return yaml.safe_load(CODEBOOK.read_text())


def _numeric(raw: dict) -> dict:
    return next(q for q in raw["questions"] if q.get("id") == "unpaid_hours")


@pytest.mark.parametrize("change, message", [
    ({"options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}, "numeric question 'unpaid_hours' cannot have options"),
    ({"min": 10, "max": 5}, "has min 10 above max 5"),
    ({"max_length": 10}, "max_length applies to text questions only"),
])
def test_a_numeric_question_that_contradicts_itself_is_refused(change, message):
    raw = _raw()
    _numeric(raw).update(change)
    with pytest.raises(ValidationError, match=message):
        Codebook.model_validate(raw)


def test_bounds_belong_to_numeric_questions_only():
    raw = _raw()
    next(q for q in raw["questions"] if q.get("id") == "qi_training").update(integer=True)
    with pytest.raises(ValidationError, match="gives integer, min, max or statistics, which only a numeric question"):
        Codebook.model_validate(raw)


def test_a_number_cannot_route_a_question():
    raw = _raw()
    raw["questions"].append({"id": "later", "type": "text", "max_length": 10, "title": "Later", "wording": "Later?",
                             "asked_if": {"question": "unpaid_hours", "in": ["7"]}})
    with pytest.raises(ValidationError, match="which is not an earlier single-choice, scale or multiple-choice"):
        Codebook.model_validate(raw)


# --- a wave with numbers: rows typed by hand --------------------------------------------------------

ROWS = {  # respondent (file row = number + 1): unpaid hours, recommend 0-10, contracted WTE, and why
    "n01": (" 7 ", "10", "1", "loads: 7, 10, 1"),
    "n02": ("+12", "9.0", "0.50", "loads: 12, 9, 0.5"),
    "n03": ("0", None, None, "loads: 0, the others not answered"),
    "n04": ("7e1", "8", "0.8", "refused: an exponent"),
    "n05": ("1,5", "8", "0.8", "refused: a decimal comma"),
    "n06": ("6.5", "8", "0.8", "refused: not whole"),
    "n07": ("4", "11", "0.8", "refused: above the maximum of 10"),
    "n08": ("4", "7", "1.2", "refused: above the maximum of 1"),
    "n09": ("four", "7", "0.6", "refused: text"),
    "n10": ("80", "0", "0.1", "loads: both bounds"),
}
LOADED = {"n01": (7.0, 10.0, 1.0), "n02": (12.0, 9.0, 0.5), "n03": (0.0, None, None), "n10": (80.0, 0.0, 0.1)}
REFUSED = {5: ("unpaid_hours", "7e1"), 6: ("unpaid_hours", "1,5"), 7: ("unpaid_hours", "6.5"),
           8: ("recommend_0_10", "11"), 9: ("contracted_wte", "1.2"), 10: ("unpaid_hours", "four")}
NUMERIC = ["unpaid_hours", "recommend_0_10", "contracted_wte"]


def wave_frame() -> pd.DataFrame:
    """Every column of the plain layout; the questions other than the numbers left unanswered."""
    return pd.DataFrame([
        {"respondent_id": rid, "submitted_at": f"2026-01-{n:02d}T10:00:00", "trust_code": "RC9", "occupational_group": "Other",
         "qi_training": "No", **dict(zip(NUMERIC, answers[:3]))}
        for n, (rid, answers) in enumerate(ROWS.items(), start=1)]).reindex(
        columns=load_codebook(CODEBOOK).expected_columns).astype(object).where(lambda f: f.notna(), None)


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return load_codebook(CODEBOOK)


@pytest.fixture(scope="module")
def loaded(codebook, tmp_path_factory, resolver):
    folder = tmp_path_factory.mktemp("numbers")
    validation = validate_wave([write_csv(wave_frame(), folder / "numbers.csv")], codebook, WAVE, resolver)
    with connect(folder / "working" / "improvement-journey" / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, WAVE, validation, run_id="run-1", pseudonymise=PSEUDONYMISE)
        stored = con.execute(
            "SELECT r.source_row, a.question_id, a.value, typeof(a.value) FROM numeric_responses AS a "
            "JOIN respondents AS r USING (survey_id, wave_id, respondent_id)").fetchall()
        assert con.execute("SELECT count(*) FROM responses WHERE question_id IN "
                           "('unpaid_hours', 'recommend_0_10', 'contracted_wte')").fetchall() == [(0,)]
        quarantine = con.execute("SELECT source_row, column_name, rule, offending_value, reason FROM private.quarantine"
                                 ).fetchall()
        questions = con.execute("SELECT question_id, question_type, value_min, value_max, value_integer FROM questions "
                                "WHERE question_id IN ('unpaid_hours', 'contracted_wte', 'qi_training') ORDER BY 1"
                                ).fetchall()
        indicators = compute_headline_indicators(con, SURVEY, WAVE, codebook.reporting)
        write_headline_indicators(con, SURVEY, WAVE, indicators)
        strict = compute_headline_indicators(con, SURVEY, WAVE, codebook.reporting.model_copy(update={"min_base": 4}))
        replace_wave_rows(con, "indicator_breakdowns", SURVEY, WAVE,
                          compute_indicator_breakdowns(con, SURVEY, WAVE, codebook.reporting))
        replace_wave_rows(con, "trust_coverage", SURVEY, WAVE, compute_trust_coverage(con, SURVEY, WAVE))
        write_trust_benchmarks(con, codebook, WAVE)
        publish_snapshot(con, folder / "warehouse" / "survey.duckdb", "run-1", "test code", [codebook])
    return validation, stored, quarantine, questions, folder / "warehouse" / "survey.duckdb", (
        indicators.set_index("indicator_id"), strict.set_index("indicator_id"))


def test_numbers_are_stored_as_numbers_apart_from_the_options_chosen(loaded):
    _, stored, *_ = loaded
    rows = {rid: n for n, rid in enumerate(ROWS, start=2)}  # file row of each respondent
    expected = {(rows[rid], question, value, "DOUBLE")
                for rid, values in LOADED.items() for question, value in zip(NUMERIC, values) if value is not None}
    assert set(stored) == expected


def test_anything_that_is_no_number_refuses_its_row_with_rule_numeric_value(loaded):
    validation, _, quarantine, *_ = loaded
    assert validation.rows_loaded == len(LOADED) and validation.rows_quarantined == len(REFUSED)
    assert {row: (column, value) for row, column, rule, value, _ in quarantine if rule == "numeric_value"} == REFUSED
    assert {rule for *_, rule, _, _ in quarantine} == {"numeric_value"}
    # the reason describes the refused text, never repeats it
    reason = next(reason for row, *_, reason in quarantine if row == 5)
    assert "7e1" not in reason and "column unpaid_hours" in reason and "(rule numeric_value;" in reason


def test_analysts_see_a_numeric_questions_bounds_and_each_number(loaded):
    _, _, _, questions, snapshot, _ = loaded
    assert questions == [("contracted_wte", "numeric", 0.1, 1.0, False), ("qi_training", "single", None, None, None),
                         ("unpaid_hours", "numeric", 0.0, 80.0, True)]
    with duckdb.connect(str(snapshot), read_only=True) as con:
        wide = dict(con.execute("SELECT unpaid_hours, contracted_wte FROM scales_test_wide").fetchall())
        published = con.execute("SELECT value FROM numeric_responses WHERE question_id = 'recommend_0_10' "
                                "ORDER BY value").fetchall()
    assert wide == {7.0: 1.0, 12.0: 0.5, 0.0: None, 80.0: 0.1}
    assert published == [(0.0,), (9.0,), (10.0,)]


@pytest.mark.parametrize("layout", ["qualtrics", "surveymonkey", "microsoft_forms", "spss"])
def test_numbers_in_a_tools_export_load_to_the_plain_csvs(layout, codebook, tmp_path, resolver):
    """Microsoft Forms and SPSS hold numbers as numbers (7.0, 0.5), Qualtrics and SurveyMonkey as text: each
    reads to the same valid rows as the plain layout."""
    from tests import exports

    rows = wave_frame()
    rows = rows[rows["respondent_id"].isin(LOADED)]  # numbers a tool can hold as numbers
    rows = rows.assign(name="Sam Jones", email=rows["respondent_id"] + "@trust.example.org")
    plain = validate_wave([write_csv(rows, tmp_path / "plain.csv")], codebook, WAVE, resolver)
    builder, suffix = exports.BUILDERS[layout]
    read = validate_wave([builder(rows, codebook, tmp_path / f"export{suffix}")], codebook, WAVE, resolver)
    assert read.files[0].layout == layout and read.rows_quarantined == 0
    frames = [v.set_index("respondent_id")[NUMERIC].sort_index() for v in (plain.valid_rows(), read.valid_rows())]
    pd.testing.assert_frame_equal(frames[1], frames[0])
    assert frames[0].loc["n02"].tolist() == ["12", "9", "0.5"]  # canonical text, which the load casts


# The loaded numbers, from ROWS: unpaid hours n01 7, n02 12, n03 0, n10 80; recommend n01 10, n02 9, n10 0;
# contracted WTE n01 1, n02 0.5, n10 0.1.
@pytest.mark.parametrize(("indicator_id", "base", "value"), [
    ("unpaid_hours.mean", 4, (7 + 12 + 0 + 80) / 4),
    ("unpaid_hours.median", 4, (7 + 12) / 2),  # an even count: the mean of the two middle values (0 7 12 80)
    ("recommend_0_10.mean", 3, (10 + 9 + 0) / 3),
    ("recommend_0_10.median", 3, 9),
    ("contracted_wte.mean", 3, (1 + 0.5 + 0.1) / 3),
    ("contracted_wte.median", 3, 0.5),
])
def test_a_numeric_questions_mean_and_median(loaded, indicator_id, base, value):
    row = loaded[-1][0].loc[indicator_id]
    assert (row["base"], row["value"]) == (base, pytest.approx(value, abs=1e-12))
    assert pd.isna(row["numerator"]) and not row["suppressed"]
    if indicator_id.endswith(".median"):
        assert pd.isna(row["ci_low"]) and pd.isna(row["sd"])  # a median has no interval here
    else:
        assert row["ci_low"] < row["value"] < row["ci_high"]


def test_a_top_box_is_the_share_of_answers_in_its_range(loaded):
    row = loaded[-1][0].loc["recommend_0_10.top_box"]  # 9 or 10: n01 and n02, of the three who answered
    assert (row["indicator_kind"], row["numerator"], row["base"]) == ("share", 2, 3)
    assert row["pct"] == pytest.approx(200 / 3) and row["value"] == pytest.approx(200 / 3)


def test_a_mean_or_median_on_too_few_respondents_is_suppressed_whole(loaded):
    strict = loaded[-1][1]  # min_base 4: three answered recommend_0_10, four unpaid_hours
    for indicator_id in ("recommend_0_10.mean", "recommend_0_10.median", "recommend_0_10.top_box"):
        row = strict.loc[indicator_id]
        assert row["suppressed"] and row["base"] == 3
        assert row[["value", "pct", "sd", "ci_low", "ci_high"]].isna().all(), indicator_id
    assert not strict.loc["unpaid_hours.median", "suppressed"] and strict.loc["unpaid_hours.median", "value"] == 9.5


def test_a_median_is_broken_down_by_every_dimension_from_the_numbers_given(loaded):
    """Every loaded respondent is an 'Other' of RC9 (an acute trust in the East of England): each group's median
    of unpaid hours is the wave's, the mean of the middle two of 0, 7, 12 and 80; a median has no interval."""
    with duckdb.connect(str(loaded[4]), read_only=True) as con:
        cells = con.execute("SELECT dimension, category, base, value, ci_low, suppressed FROM indicator_breakdowns "
                            "WHERE indicator_id = 'unpaid_hours.median' ORDER BY dimension").fetchall()
    assert cells == [("occupational_group", "Other", 4, 9.5, None, False),
                     ("region", "East of England", 4, 9.5, None, False),
                     ("trust_type", "Acute and Acute & Community Trusts", 4, 9.5, None, False)]
