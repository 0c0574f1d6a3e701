"""Scale questions, grids and the base rules of codebook version 2 (``schemas/scales.py``, the option
rules of ``schemas/codebook.py``, the ``exclusive_option`` rule of ``validation/rules.py``, and the bases
counted by ``warehouse/trust_counts.py`` and ``schema.sql``).

The known answers come from a dozen respondents typed in below; every expected count and percentage was
worked out by hand from those rows (the working is beside each), not by the code under test."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from schemas.codebook import Codebook
from schemas.codebook_files import load_codebook
from schemas.indicator_catalogue import indicator_catalogue
from schemas.reference import load_trusts
from tests.conftest import write_csv
from validation.engine import validate_wave
from warehouse.connection import connect
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.indicators import compute_headline_indicators
from warehouse.load import load_wave
from warehouse.pseudonyms import Pseudonymiser
from warehouse.trust_counts import COUNT_TABLES, count_wave_from_responses

CODEBOOK = Path(__file__).parent / "codebooks" / "scales-test.yaml"
SURVEY, WAVE = "scales-test", "2026Q1"
SA, A, N, D, SD, DK = "Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree", "Don't know"
VU, FU, NVU = "Very useful", "Fairly useful", "Not very useful"
COLUMNS = ["eng_enthusiastic", "eng_recommend_work", "improve_ideas", "qi_training", "qi_training_useful",
           "qi_training_comment", "improvement_barriers.time", "improvement_barriers.staffing",
           "improvement_barriers.none"]
ROWS = {  # respondent (file row = number + 1): the answers, in COLUMNS order (None: left blank)
    "r01": (SA, A, A, "Yes", VU, "Fine", "1", "0", "0"),  # a comment where it was not asked: cleaned
    "r02": (A, D, DK, "Yes", FU, None, "1", "1", "0"),
    "r03": (N, None, SA, "Yes", DK, None, "0", "0", "1"),
    "r04": (D, SD, D, "Yes", NVU, "Too theoretical", "0", "1", "0"),
    "r05": (SA, SA, DK, "No", None, None, "0", "0", "1"),
    "r06": (A, A, N, "No", VU, "Good course", "1", "0", "0"),  # not routed: both answers cleaned
    "r07": (None, N, A, "Yes", DK, None, None, None, None),
    "r08": (SD, A, SA, "Yes", FU, None, "0", "1", "0"),
    "r09": (A, None, DK, "Yes", VU, None, "1", "1", "0"),
    "r10": (A, SA, A, "Yes", NVU, None, "0", "0", "1"),
    "r11": (A, A, A, "Yes", VU, None, "1", "0", "1"),  # "None of these" with "Lack of time": refused
    "r12": (N, D, SD, "No", FU, None, "1", "0", "0"),  # not routed: cleaned
}
PSEUDONYMISE = Pseudonymiser(b"a key for tests only, 32 bytes..")


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return load_codebook(CODEBOOK)


def wave_frame() -> pd.DataFrame:
    """Every column of the plain layout; the numeric questions (tests/test_numbers.py) left unanswered."""
    trusts = ["RC9", "RJN"]
    return pd.DataFrame([
        {"respondent_id": rid, "submitted_at": f"2026-01-{n:02d}T10:00:00", "trust_code": trusts[n % 2],
         "occupational_group": "Nursing or midwifery" if n <= 6 else "Other",  # r01-r06 nurses and midwives
         "email": f"{rid}@trust.example.org", **dict(zip(COLUMNS, answers))}
        for n, (rid, answers) in enumerate(ROWS.items(), start=1)]).reindex(
        columns=load_codebook(CODEBOOK).expected_columns).astype(object).where(lambda f: f.notna(), None)


@pytest.fixture(scope="module")
def loaded(codebook, tmp_path_factory, resolver):
    folder = tmp_path_factory.mktemp("scales")
    validation = validate_wave([write_csv(wave_frame(), folder / "pulse.csv")], codebook, WAVE, resolver)
    with connect(folder / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, WAVE, validation, run_id="run-1", pseudonymise=PSEUDONYMISE)
        indicators = compute_headline_indicators(con, SURVEY, WAVE, codebook.reporting).set_index("indicator_id")
        responses = con.execute("SELECT question_id, option_id FROM responses").df()
        stored = {table: con.execute(f"SELECT * FROM {table}").df() for table in ("free_text_responses", "cleaning_log")}
        made_while_loading = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in COUNT_TABLES}
        count_wave_from_responses(con, SURVEY, WAVE)
        recounted = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in COUNT_TABLES}
    return validation, indicators, responses, made_while_loading, recounted, stored


# --- the codebook ------------------------------------------------------------------------------------

def test_a_grid_becomes_one_scale_question_per_item_with_the_grids_stem_and_scale(codebook):
    item = codebook.question("eng_recommend_work")
    assert item.type == "scale" and item.scale == "agree5"
    assert item.grid_stem == "To what extent do you agree or disagree with each of the following statements?"
    assert item.wording == "I would recommend my organisation as a place to work."
    assert [(o.id, o.score) for o in item.options] == [
        ("strongly_disagree", 0), ("disagree", 2.5), ("neither", 5), ("agree", 7.5), ("strongly_agree", 10)]
    assert item.positive == ("agree", "strongly_agree")
    # A scale question's own options follow the scale's.
    assert [o.id for o in codebook.question("improve_ideas").options][-1] == "dont_know"
    assert codebook.expected_columns[:7] == ["respondent_id", "submitted_at", "trust_code", "occupational_group", "name", "email",
                                             "eng_enthusiastic"]


def test_excluded_options_get_no_share_and_scale_items_get_a_positive_score(codebook):
    catalogue = {i.id: i for i in indicator_catalogue(codebook)}
    assert "improve_ideas.dont_know" not in catalogue and "qi_training_useful.dont_know" not in catalogue
    assert "improvement_barriers.none" in catalogue  # an exclusive option is in the base like any other
    positive = catalogue["eng_enthusiastic.positive"]
    assert (positive.kind, positive.option_ids) == ("share", ("agree", "strongly_agree"))
    assert positive.label == "Enthusiastic about my job: Agree or Strongly agree (positive score)"
    assert "qi_training_useful.positive" not in catalogue  # not a scale question


def _raw() -> dict:
    return yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))


def _question(raw: dict, question_id: str) -> dict:
    return next(q for q in raw["questions"] if q.get("id") == question_id)


def _refused(raw: dict) -> str:
    with pytest.raises(ValidationError) as refused:
        Codebook.model_validate(raw)
    return str(refused.value)


def test_a_scale_option_without_a_score_is_refused():
    raw = _raw()
    del raw["scales"]["agree5"]["options"][2]["score"]
    assert "options ['neither'] need a score" in _refused(raw)


def test_an_excluded_option_with_a_score_is_refused():
    raw = _raw()
    _question(raw, "improve_ideas")["options"][0]["score"] = 5
    assert "excluded from the base and cannot have a score" in _refused(raw)


def test_an_exclusive_option_outside_a_multiple_choice_question_is_refused():
    raw = _raw()
    _question(raw, "qi_training_useful")["options"][2]["exclusive"] = True
    assert "only a multiple-choice question's options can be" in _refused(raw)


def test_scores_on_a_single_choice_question_are_refused():
    raw = _raw()
    _question(raw, "qi_training_useful")["options"][0]["score"] = 1
    assert "only a scale question (type: scale) has them" in _refused(raw)


def test_a_positive_score_naming_an_excluded_option_is_refused():
    raw = _raw()
    _question(raw, "improve_ideas")["positive"] = ["agree", "dont_know"]
    assert "positive names ['dont_know']" in _refused(raw)


def test_a_composite_of_an_excluded_option_is_refused():
    raw = _raw()
    raw["indicators"]["composites"][0]["options"] = ["very_useful", "dont_know"]
    assert "excluded from the base" in _refused(raw)


def test_a_question_whose_every_option_is_excluded_is_refused():
    raw = _raw()
    for option in _question(raw, "qi_training_useful")["options"]:
        option["exclude_from_base"] = True
    assert "every option of 'qi_training_useful' is excluded from the base" in _refused(raw)


def test_an_undeclared_scale_is_refused_by_name():
    raw = _raw()
    _question(raw, "improve_ideas")["scale"] = "agree7"
    assert "names scale 'agree7', which `scales:` does not declare (declared: agree5)" in _refused(raw)


def test_a_grid_with_an_unknown_key_is_refused():
    raw = _raw()
    raw["questions"][0]["grid"]["colour"] = "blue"
    assert "unknown keys ['colour']" in _refused(raw)


def test_a_default_written_out_does_not_change_a_waves_digest():
    """A release adding an optional codebook field must not make every loaded wave stale."""
    raw = _raw()
    before = Codebook.model_validate(raw).digest_for(WAVE)
    _question(raw, "qi_training_useful")["options"][2]["exclude_from_base"] = False
    assert Codebook.model_validate(raw).digest_for(WAVE) == before
    _question(raw, "qi_training_useful")["options"][2]["exclude_from_base"] = True
    assert Codebook.model_validate(raw).digest_for(WAVE) != before


# --- the wave ----------------------------------------------------------------------------------------

def test_none_of_these_ticked_with_another_option_quarantines_the_row(loaded):
    validation = loaded[0]
    assert (validation.rows_read, validation.rows_loaded, validation.rows_quarantined) == (12, 11, 1)
    entry = validation.quarantine.iloc[0]
    assert (entry["source_row"], entry["column_name"], entry["rule"]) == (12, "improvement_barriers.none", "exclusive_option")
    assert entry["reason"] == ("pulse.csv row 12, column improvement_barriers.none: an option that excludes the others "
                               "(such as \"None of these\") is ticked with another option (rule exclusive_option; "
                               "value: 'None of these' ticked with another option)")


# indicator: (numerator, base), counted by hand from ROWS without r11
KNOWN = {
    # eng_enthusiastic: 10 answered (r07 blank); SA r01 r05, A r02 r06 r09 r10
    "eng_enthusiastic.positive": (6, 10),
    "eng_enthusiastic.agree": (4, 10),
    # eng_recommend_work: 9 answered (r03, r09 blank); A r01 r06 r08, SA r05 r10
    "eng_recommend_work.positive": (5, 9),
    # improve_ideas: 11 answered, 3 of them "Don't know" (r02 r05 r09), so 8 in the base; A r01 r07 r10, SA r03 r08
    "improve_ideas.positive": (5, 8),
    "improve_ideas.strongly_disagree": (1, 8),
    # qi_training_useful, asked if qi_training is Yes: routed r01-r04 r07-r10; all answered, r03 r07 "Don't
    # know": 6 (r06 r12 answered, not routed: cleaned); VU r01 r09, FU r02 r08
    "qi_training_useful.very_useful": (2, 6),
    "qi_training_useful.useful": (4, 6),
    # qi_training: required, 11 answered; Yes 8
    "qi_training.yes": (8, 11),
    # improvement_barriers: 10 ticked something (r07 nothing); time r01 r02 r06 r09 r12; none r03 r05 r10
    "improvement_barriers.time": (5, 10),
    "improvement_barriers.none": (3, 10),
}


@pytest.mark.parametrize(("indicator_id", "expected"), KNOWN.items())
def test_shares_rest_on_the_base_without_excluded_answers(loaded, indicator_id, expected):
    row = loaded[1].loc[indicator_id]
    numerator, base = expected
    assert (row["numerator"], row["base"]) == (numerator, base)
    assert row["pct"] == pytest.approx(100 * numerator / base)


# Scores of the loaded rows (r11 refused), typed from ROWS: SD 0, D 2.5, N 5, A 7.5, SA 10; "Don't know"
# and blanks have none.
ITEM_SCORES = {
    # r01 r02 r03 r04 r05 r06 (r07 blank) r08 r09 r10 r12
    "eng_enthusiastic": [10, 7.5, 5, 2.5, 10, 7.5, 0, 7.5, 7.5, 5],
    # r01 SA r03 SA r04 D r06 N r07 A r08 SA r10 A r12 SD (DK r02 r05 r09)
    "improve_ideas": [7.5, 10, 2.5, 5, 7.5, 10, 7.5, 0],
}
# The engagement theme (eng_enthusiastic, eng_recommend_work, improve_ideas; at least 2 answered): each
# respondent's mean score. r09 answered one item only (A; blank; Don't know) and is not counted.
THEME_SCORES = [
    (10 + 7.5 + 7.5) / 3,  # r01 SA A A
    (7.5 + 2.5) / 2,  # r02 A D, Don't know
    (5 + 10) / 2,  # r03 N, blank, SA
    (2.5 + 0 + 2.5) / 3,  # r04 D SD D
    (10 + 10) / 2,  # r05 SA SA, Don't know
    (7.5 + 7.5 + 5) / 3,  # r06 A A N
    (5 + 7.5) / 2,  # r07 blank, N A
    (0 + 7.5 + 10) / 3,  # r08 SD A SA
    (7.5 + 10 + 7.5) / 3,  # r10 A SA A
    (5 + 2.5 + 0) / 3,  # r12 N D SD
]
T_975 = {9: 2.262157, 7: 2.364624}  # Student's t, 97.5th percentile, by degrees of freedom (printed tables)


@pytest.mark.parametrize(("indicator_id", "values"), [
    ("eng_enthusiastic.score", ITEM_SCORES["eng_enthusiastic"]),
    ("improve_ideas.score", ITEM_SCORES["improve_ideas"]),
    ("engagement.score", THEME_SCORES),
])
def test_item_and_theme_scores_are_means_of_respondents_scores_with_a_t_interval(loaded, indicator_id, values):
    row = loaded[1].loc[indicator_id]
    n, mean, sd = len(values), statistics.fmean(values), statistics.stdev(values)
    half = T_975[n - 1] * sd / math.sqrt(n)
    assert (row["indicator_kind"], row["base"]) == ("mean", n)
    assert pd.isna(row["numerator"]) and pd.isna(row["pct"])
    assert row["value"] == pytest.approx(mean, abs=1e-12) and row["sd"] == pytest.approx(sd, abs=1e-12)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(mean - half, abs=1e-5), pytest.approx(mean + half, abs=1e-5))


@pytest.fixture(scope="module")
def breakdown_cells(codebook, tmp_path_factory, resolver) -> pd.DataFrame:
    """The dozen's breakdowns by every dimension of the test codebook."""
    from warehouse.breakdowns import compute_indicator_breakdowns

    folder = tmp_path_factory.mktemp("breakdowns")
    validation = validate_wave([write_csv(wave_frame(), folder / "pulse.csv")], codebook, WAVE, resolver)
    with connect(folder / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, WAVE, validation, run_id="run-1", pseudonymise=PSEUDONYMISE)
        return compute_indicator_breakdowns(con, SURVEY, WAVE, codebook.reporting)


def test_a_mean_is_broken_down_by_group_like_a_share(breakdown_cells):
    """RC9 (East of England) and RJN (North West) respondents alternate: by region, eng_enthusiastic's mean
    score of each trust's respondents; both are acute trusts, so by trust type, the mean of all ten."""
    cells = breakdown_cells
    score = cells[cells["indicator_id"] == "eng_enthusiastic.score"].set_index(["dimension", "category"])
    rc9 = [7.5, 2.5, 7.5, 0, 7.5, 5]  # r02 r04 r06 r08 r10 r12
    rjn = [10, 5, 10, 7.5]  # r01 r03 r05 r09 (r07 blank, r11 refused)
    for category, values in (("East of England", rc9), ("North West", rjn)):
        row = score.loc[("region", category)]
        assert (row["base"], row["value"]) == (len(values), pytest.approx(statistics.fmean(values)))
        assert row["sd"] == pytest.approx(statistics.stdev(values)) and pd.isna(row["pct"]) and pd.isna(row["numerator"])
        assert row["ci_low"] < row["value"] < row["ci_high"]
    both = score.loc[("trust_type", "Acute and Acute & Community Trusts")]
    assert (both["base"], both["value"]) == (10, pytest.approx(6.25))


def test_shares_and_means_are_broken_down_by_a_respondent_field(breakdown_cells):
    """r01-r06 are nurses and midwives, r07-r12 other staff (``wave_frame``): eng_enthusiastic by group, worked
    out from ROWS."""
    cells = breakdown_cells[breakdown_cells["dimension"] == "occupational_group"].set_index(["indicator_id", "category"])
    nurses = [10, 7.5, 5, 2.5, 10, 7.5]  # SA A N D SA A: four positive of six
    others = [0, 7.5, 7.5, 5]  # r08 SD, r09 A, r10 A, r12 N (r07 blank, r11 refused): two of four
    for group, values, positive in (("Nursing or midwifery", nurses, 4), ("Other", others, 2)):
        score, share = cells.loc[("eng_enthusiastic.score", group)], cells.loc[("eng_enthusiastic.positive", group)]
        assert (score["base"], score["value"]) == (len(values), pytest.approx(statistics.fmean(values)))
        assert score["sd"] == pytest.approx(statistics.stdev(values))
        assert share["base"] == len(values) and pd.isna(share["numerator"])  # a count of 1 to 4 is never shown
        assert share["pct"] == pytest.approx(100 * positive / len(values))
    assert set(cells.index.get_level_values("category")) == {"Nursing or midwifery", "Other"}


def test_a_theme_counts_only_those_who_answered_enough_of_its_items(loaded):
    assert loaded[1].loc["engagement.score", "base"] == 10  # 11 loaded, r09 answered one of three items
    # the thirds add up to 100/3 (25 + 5 + 20 + 17.5 + 25 + 7.5, over 3), the halves to 28.75
    assert loaded[1].loc["engagement.score", "value"] == pytest.approx((100 / 3 + 28.75) / 10)


def test_excluded_answers_are_stored_and_counted_but_have_no_share(loaded):
    _, indicators, responses, *_ = loaded
    held = responses.value_counts(["question_id", "option_id"])
    assert held[("improve_ideas", "dont_know")] == 3 and held[("qi_training_useful", "dont_know")] == 2
    # r01 r09 (r06's "Very useful", given where it was not asked, is not stored)
    assert held[("qi_training_useful", "very_useful")] == 2
    assert not any(i.endswith(".dont_know") for i in indicators.index)
    assert indicators.loc["respondents", "numerator"] == 11


def test_counts_from_the_long_responses_equal_the_counts_made_while_loading(loaded):
    *_, made_while_loading, recounted, _ = loaded
    for table, frame in made_while_loading.items():
        assert len(frame)
        pd.testing.assert_frame_equal(recounted[table], frame, obj=table)


def test_answers_where_the_routing_says_not_asked_are_cleaned_logged_and_the_rows_load(loaded):
    validation, *_, stored = loaded
    log = stored["cleaning_log"].sort_values(["source_row", "column_name"])
    # r01's comment (the training was very useful: not asked why not); r06 answered no to the training, so
    # neither its usefulness nor (routed from that) its comment was asked; r12 answered no too.
    assert list(zip(log["source_row"], log["column_name"], log["rule"])) == [
        (2, "qi_training_comment", "not_routed"), (7, "qi_training_comment", "not_routed"),
        (7, "qi_training_useful", "not_routed"), (13, "qi_training_useful", "not_routed")]
    assert list(log["offending_value"]) == ["4 characters: letters", "11 characters: letters and spaces",
                                            "Very useful", "Fairly useful"]  # free text described, labels kept
    assert log["respondent_id"].str.fullmatch(r"[0-9a-f]{24}").all()  # pseudonyms
    assert validation.cleaned_by_rule() == {"not_routed": 4}
    assert validation.rows_loaded == 11  # the cleaned rows still load
    comments = stored["free_text_responses"]
    assert list(comments.loc[comments["question_id"] == "qi_training_comment", "text"]) == ["Too theoretical"]


def test_analysts_see_the_cleaned_cells_counted_by_rule_and_column_and_never_their_values(codebook, tmp_path, resolver):
    """``cleaning_counts`` in the analysts' file, counted here from ROWS: the comment is asked only of those who found
    the training not very useful, so r01's and r06's comments are cleaned; the usefulness only of those trained, so
    r06's and r12's."""
    import duckdb

    from warehouse.benchmarks import write_trust_benchmarks
    from warehouse.breakdowns import compute_indicator_breakdowns, compute_trust_coverage
    from warehouse.connection import replace_wave_rows
    from warehouse.indicators import write_headline_indicators
    from warehouse.publication import publish_snapshot

    validation = validate_wave([write_csv(wave_frame(), tmp_path / "pulse.csv")], codebook, WAVE, resolver)
    target = tmp_path / "warehouse" / "survey.duckdb"
    with connect(tmp_path / "working" / SURVEY / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, WAVE, validation, run_id="run-1", pseudonymise=PSEUDONYMISE)
        write_headline_indicators(con, SURVEY, WAVE, compute_headline_indicators(con, SURVEY, WAVE, codebook.reporting))
        replace_wave_rows(con, "indicator_breakdowns", SURVEY, WAVE,
                          compute_indicator_breakdowns(con, SURVEY, WAVE, codebook.reporting))
        replace_wave_rows(con, "trust_coverage", SURVEY, WAVE, compute_trust_coverage(con, SURVEY, WAVE))
        write_trust_benchmarks(con, codebook, WAVE)
        publish_snapshot(con, target, "run-1", "test code", [codebook])
    not_asked = {"qi_training_comment": ["r01", "r06"], "qi_training_useful": ["r06", "r12"]}
    with duckdb.connect(str(target), read_only=True) as snapshot:
        counts = snapshot.execute("SELECT source_file, rule, column_name, cells_cleaned FROM cleaning_counts "
                                  "WHERE survey_id = ? AND wave_id = ? ORDER BY column_name", [SURVEY, WAVE]).fetchall()
        columns = {c for (c,) in snapshot.execute("SELECT column_name FROM duckdb_columns() "
                                                  "WHERE table_name = 'cleaning_counts'").fetchall()}
        tables = {t for (t,) in snapshot.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert counts == [("pulse.csv", "not_routed", column, len(who)) for column, who in sorted(not_asked.items())]
    assert not columns & {"offending_value", "respondent_id", "source_row"} and "cleaning_log" not in tables
    assert not any(value.encode() in target.read_bytes() for value in ("Good course", "Fine"))


def test_a_required_routed_question_is_required_of_those_routed_only(tmp_path, resolver):
    raw = _raw()
    _question(raw, "qi_training_useful")["required"] = True
    codebook = Codebook.model_validate(raw)
    rows = wave_frame()
    rows.loc[rows["respondent_id"] == "r08", "qi_training_useful"] = None  # routed (Yes), left blank
    validation = validate_wave([write_csv(rows, tmp_path / "pulse.csv")], codebook, WAVE, resolver)
    refused = validation.quarantine.set_index("source_row")
    # r05 (No, blank) is not asked, so not refused; r08 (row 9) is; r11 (row 12) as before.
    assert sorted(refused.index) == [9, 12]
    assert (refused.loc[9, "column_name"], refused.loc[9, "rule"]) == ("qi_training_useful", "required")


def test_a_route_on_a_later_or_unknown_question_is_refused():
    raw = _raw()
    _question(raw, "qi_training_useful")["asked_if"] = {"question": "improvement_barriers", "in": ["time"]}
    assert "which is not an earlier single-choice, scale or multiple-choice question" in _refused(raw)
    raw = _raw()
    _question(raw, "qi_training_useful")["asked_if"] = {"question": "qi_training", "in": ["maybe"]}
    assert "in ['maybe'], which are not options of 'qi_training'" in _refused(raw)


@pytest.mark.parametrize("layout", ["qualtrics", "surveymonkey", "microsoft_forms", "spss"])
def test_a_grid_in_a_tools_export_loads_to_the_plain_csvs_answers(layout, codebook, tmp_path, resolver):
    """Qualtrics heads a grid item "<stem> - <item>", SurveyMonkey puts the stem above its items, Microsoft
    Forms heads a column per statement, SPSS codes each item with the scale's value labels: each reads to the
    same valid rows as the plain layout."""
    from tests import exports

    rows = wave_frame().assign(name="Sam Jones")
    plain = validate_wave([write_csv(rows, tmp_path / "plain.csv")], codebook, WAVE, resolver)
    builder, suffix = exports.BUILDERS[layout]
    built = builder(rows, codebook, tmp_path / f"export{suffix}")
    read = validate_wave([built], codebook, WAVE, resolver)
    assert read.files[0].layout == layout
    grid = ["eng_enthusiastic", "eng_recommend_work", "improve_ideas", "qi_training_useful"]
    frames = [v.set_index("respondent_id")[grid].sort_index() for v in (plain.valid_rows(), read.valid_rows())]
    pd.testing.assert_frame_equal(frames[1], frames[0])
    assert len(frames[0]) == 11


def test_analysts_see_each_questions_grid_and_routing(codebook, tmp_path):
    with connect(tmp_path / "survey.duckdb") as con:
        write_survey_dimensions(con, codebook)
        rows = con.execute("SELECT question_id, question_type, grid_stem, asked_if_question, asked_if_options "
                           "FROM questions ORDER BY question_order").fetchall()
        in_base = dict(con.execute("SELECT option_id, in_base FROM options WHERE question_id = 'improve_ideas'").fetchall())
    by_id = {r[0]: r[1:] for r in rows}
    assert by_id["eng_enthusiastic"][:2] == ("scale", codebook.question("eng_enthusiastic").grid_stem)
    assert by_id["qi_training_useful"] == ("single", None, "qi_training", ["yes"])
    assert by_id["improvement_barriers"] == ("multiple", None, None, None)
    assert in_base == {"strongly_disagree": True, "disagree": True, "neither": True, "agree": True,
                       "strongly_agree": True, "dont_know": False}


def test_a_required_routed_multiple_choice_question_needs_a_tick_of_those_routed_only(tmp_path, resolver):
    raw = _raw()
    barriers = _question(raw, "improvement_barriers")
    barriers.update(required=True, asked_if={"question": "qi_training", "in": ["yes"]})
    codebook = Codebook.model_validate(raw)
    validation = validate_wave([write_csv(wave_frame(), tmp_path / "pulse.csv")], codebook, WAVE, resolver)
    refused = validation.quarantine.set_index("source_row")
    # r07 (row 8) answered Yes and ticked nothing; r11 (row 12) as before; r05 r06 r12 said No: not asked,
    # so their ticks are cleaned away, not refused.
    assert sorted(refused.index) == [8, 12]
    assert refused.loc[8, "rule"] == "at_least_one_option"
    assert validation.cleaned_by_rule()["not_routed"] == 4 + 3  # r05's none, r06's time, r12's time
