"""The views of the analysts' snapshot hold what the delivered files say: the sample warehouse's wide view
against the bundled CSVs cell by cell, the labelled answers against the codebook's words, and one wide
view per survey holding that survey's respondents only."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from schemas.reference import load_trusts
from tests.conftest import SURVEY_ID, read_sample
from warehouse.publication import PublishFailed, publish_snapshot
from warehouse.snapshot_views import wide_view_sql

WAVES = ("2023", "2024", "2025")
# The plain CSV layout's columns that are not closed questions: the respondent, personal data, free text.
NOT_QUESTIONS = {"respondent_id", "submitted_at", "trust_code", "role", "name", "email", "comments"}
FIXED = ["survey_id", "wave_id", "respondent_id", "trust_code", "trust_type", "region", "role"]


def _cell(value):
    return None if pd.isna(value) else value


@pytest.fixture(scope="module")
def wide(demo_run) -> pd.DataFrame:
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        return con.execute("select * from improvement_journey_wide").df()


def test_the_wide_view_has_the_plain_layouts_question_columns(wide):
    header = list(read_sample("2025").columns)  # the wave that offered every option
    assert list(wide.columns) == FIXED + [c for c in header if c not in NOT_QUESTIONS]


def test_the_wide_view_holds_each_delivered_answer(demo_run, wide):
    """Labels as delivered, ticks 1/0 as true/false, an empty cell or an option the wave's file has no
    column for (not offered then) as NULL; the trust's type and region from the reference list."""
    trusts = load_trusts().set_index("ods_code")
    delivered = {}
    for wave_id in WAVES:
        for record in read_sample(wave_id).to_dict("records"):
            trust = trusts.loc[record["trust_code"]]
            row = {"survey_id": SURVEY_ID, "trust_code": record["trust_code"], "trust_type": trust["type"],
                   "region": trust["region"], "role": record["role"]}
            for column, value in record.items():
                if column not in NOT_QUESTIONS:
                    row[column] = {"1": True, "0": False}.get(value) if "." in column else _cell(value)
            delivered[(wave_id, demo_run.pseudonym(record["respondent_id"]))] = row
    columns = [c for c in wide.columns if c not in ("wave_id", "respondent_id")]
    published = {
        (r["wave_id"], r["respondent_id"]): {c: _cell(r[c]) for c in columns} for r in wide.to_dict("records")
    }
    assert len(published) == len(wide) == len(delivered) == sum(len(read_sample(w)) for w in WAVES)
    assert published == {key: {c: row.get(c) for c in columns} for key, row in delivered.items()}
    # the three kinds of empty the view tells apart are all there
    assert wide.loc[wide.wave_id == "2024", "trust_barriers.financial_pressures"].isna().all()  # not offered
    assert wide["pc_barriers.governance"].isna().any()  # an optional question left unanswered
    assert (wide["trust_barriers.funding"] == False).any()  # noqa: E712 - answered, not ticked


def test_labelled_answers_carry_the_wording_of_their_wave(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        wordings = con.execute(
            "select wave_id, any_value(question_wording) from responses_labelled "
            "where question_id = 'trust_support_needs' group by all order by 1").fetchall()
        labelled = con.execute(
            "select wave_id, respondent_id, question_id, option_id, option_label, question_order, option_order "
            "from responses_labelled").fetchall()
        answers = con.execute("select wave_id, respondent_id, question_id, option_id from responses").fetchall()
    old = "Where would your trust most value support? (select all that apply)"
    new = "Where would your trust most value national support for improvement? (select all that apply)"
    assert wordings == [("2023", old), ("2024", old), ("2025", new)]  # as the codebook's YAML words them
    assert sorted(row[:4] for row in labelled) == sorted(answers)  # every answer once
    assert ("trust_barriers", "funding", "Lack of funding", 3, 4) in {row[2:] for row in labelled}


def test_each_survey_has_a_wide_view_of_its_own_respondents(demo_run, codebook, tmp_path):
    """A second survey (its id with hyphens and a digit) in the same file: its view is named after it and
    holds its respondents only, and the first survey's view is unchanged."""
    copy = tmp_path / "survey.duckdb"
    shutil.copyfile(demo_run.warehouse, copy)
    other = codebook.model_copy(update={"survey_id": "board-pulse-2"})
    with duckdb.connect(str(copy)) as con:
        for table in ("respondents", "respondent_fields", "responses", "wave_questions", "options"):
            con.execute(f"insert into {table} select * replace ('board-pulse-2' as survey_id) from {table} "
                        f"where survey_id = ? {'' if table == 'options' else 'and wave_id = ?'}",
                        [SURVEY_ID] if table == "options" else [SURVEY_ID, "2025"])
        con.execute(wide_view_sql(other))
        theirs = con.execute("select * exclude (survey_id) from board_pulse_2_wide order by all").fetchall()
        ours = con.execute("select * exclude (survey_id) from improvement_journey_wide "
                           "where wave_id = '2025' order by all").fetchall()
        counts = con.execute("select survey_id, count(*) from improvement_journey_wide group by all").fetchall()
    assert len(theirs) == len(read_sample("2025")) and theirs == ours
    assert counts == [(SURVEY_ID, sum(len(read_sample(w)) for w in WAVES))]


def test_a_question_named_like_a_column_of_the_wide_view_stops_the_publication(demo_run, codebook, tmp_path):
    """Two columns of one name would make no view: the publication says which, and publishes nothing."""
    renamed = codebook.questions[0].model_copy(update={"id": "region"})
    clashing = codebook.model_copy(update={"questions": (renamed, *codebook.questions[1:])})
    target = tmp_path / "warehouse" / "survey.duckdb"
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        with pytest.raises(PublishFailed, match="improvement-journey codebook has questions named like the wide "
                                                 "view's own columns: region"):
            publish_snapshot(con, target, "run-x", "test code", [clashing])
    assert not target.parent.exists()
