"""A codebook edit never rewrites published history silently: removing a question or an option that a
loaded wave was asked, or renaming a question, is refused before anything is written, naming the waves
and the answers they hold, unless the change is declared (``asked_in``, ``renamed_from``). Real Dagster
runs over a home holding wave 2023; the answer counts are counted from the bundled file itself."""

from __future__ import annotations

from pathlib import Path

from assets.constants import CHECK_CODEBOOK_KEEPS_ANSWERS
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR
from tests.conftest import read_sample
from tests.wave_runs import SURVEY_ID, check_evaluation, failure_description, home_holding_2023
from warehouse.connection import connect

BUNDLED = (BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text(encoding="utf-8")
BARRIERS_OTHER = "      - {id: financial_pressures, label: Financial pressures, asked_from: \"2025\"}\n      - {id: other, label: Other}\n"


def _edit_codebook(home: Path, text: str) -> None:
    (home / "codebooks").mkdir(exist_ok=True)
    (home / "codebooks" / f"{SURVEY_ID}.yaml").write_text(text, encoding="utf-8")


def _tables(home: Path) -> dict:
    with connect(home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        return {t: con.execute(f"select * from {t} order by all").fetchall()
                for t in ("questions", "options", "wave_questions", "responses", "free_text_responses")}


def test_removing_an_option_a_loaded_wave_was_asked_is_refused_with_its_answers(tmp_path):
    home, run = home_holding_2023(tmp_path)
    assert BARRIERS_OTHER in BUNDLED
    before = _tables(home)
    _edit_codebook(home, BUNDLED.replace(BARRIERS_OTHER, BARRIERS_OTHER.split("\n")[0] + "\n"))
    result = run("2023")
    assert not result.success
    ticked = int((read_sample("2023")["trust_barriers.other"] == "1").sum())
    assert ticked > 0
    description = failure_description(result)
    assert f"wave 2023: option 'other' of 'trust_barriers', {ticked:,} answers" in description
    assert "asked_in" in description and "renamed_from" in description
    assert not check_evaluation(result, CHECK_CODEBOOK_KEEPS_ANSWERS).passed
    assert _tables(home) == before  # not even the dimensions were written


def test_an_option_kept_for_the_waves_that_asked_it_is_not_a_removal(tmp_path):
    home, run = home_holding_2023(tmp_path)
    kept = BARRIERS_OTHER.replace("{id: other, label: Other}", '{id: other, label: Other, asked_in: ["2023", "2024"]}')
    _edit_codebook(home, BUNDLED.replace(BARRIERS_OTHER, kept))
    result = run("2023")
    assert result.success, failure_description(result)
    assert check_evaluation(result, CHECK_CODEBOOK_KEEPS_ANSWERS).passed


def test_removing_a_free_text_question_is_refused_with_its_answers(tmp_path):
    home, run = home_holding_2023(tmp_path)
    start = BUNDLED.index("  - id: comments\n")
    end = BUNDLED.index("\nindicators:")
    _edit_codebook(home, BUNDLED[:start] + BUNDLED[end + 1:])
    result = run("2023")
    assert not result.success
    comments = int(read_sample("2023")["comments"].fillna("").str.strip().ne("").sum())
    assert f"wave 2023: question 'comments', {comments:,} answers" in failure_description(result)


def test_a_renamed_question_is_refused_unless_it_says_what_it_was_renamed_from(tmp_path):
    home, run = home_holding_2023(tmp_path)
    renamed = BUNDLED.replace("trust_approach_stage", "trust_stage")
    _edit_codebook(home, renamed)
    refused = run("2023")
    assert not refused.success
    answered = int(read_sample("2023")["trust_approach_stage"].fillna("").str.strip().ne("").sum())
    assert f"wave 2023: question 'trust_approach_stage', {answered:,} answers" in failure_description(refused)
    _edit_codebook(home, renamed.replace("  - id: trust_stage\n", "  - id: trust_stage\n    renamed_from: trust_approach_stage\n"))
    declared = run("2023")  # the file, headed trust_approach_stage, is read under the new id
    assert declared.success, failure_description(declared)
    with connect(home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        ids = dict(con.execute("select question_id, count(*) from responses where question_id in "
                               "('trust_stage', 'trust_approach_stage') group by all").fetchall())
    assert ids == {"trust_stage": answered}


def test_a_codebook_version_that_changes_an_earlier_waves_figures_says_which_before_publishing(tmp_path):
    from home.settings import Settings, SurveyHome
    from pipelines.runner import run_landed_waves
    from pipelines.terminal import console, report_refresh

    home, _ = home_holding_2023(tmp_path)
    composite = "      question: trust_impact_alignment\n      options: [fully, mostly]\n"
    assert composite in BUNDLED
    # The next version counts "partly aligned" in the composite too: its 2023 share rises by those answers.
    _edit_codebook(home, BUNDLED.replace(composite, composite.replace("[fully, mostly]", "[fully, mostly, partly]"), 1)
                   .replace('version: "', 'version: "2-', 1))
    partly = int((read_sample("2023")["trust_impact_alignment"] == "Partly aligned").sum())
    assert partly > 0
    survey_home = SurveyHome(home, Settings.defaults().model_copy(update={"home": home, "settle_seconds": 0}))
    refresh = run_landed_waves(survey_home, log_level="CRITICAL")
    [wave] = refresh.runs
    assert wave.success and wave.figures_changed == 1  # the composite alone: no other figure counts it
    with console.capture() as printed:
        report_refresh(survey_home, refresh)
    assert f"{SURVEY_ID}/2023: ok (run {wave.run_id[:8]}); published figures that change: 1" in printed.get()


def test_figure_changes_are_what_a_reader_sees_change():
    import pandas as pd

    from warehouse.indicators import figure_changes

    def rows(*values):
        return pd.DataFrame(values, columns=["indicator_id", "indicator_kind", "numerator", "pct", "suppressed"])

    before = rows(("a", "share", 10, 12.34, False), ("b", "share", 3, None, True), ("c", "count", 129, None, False),
                  ("d", "share", 5, 50.0, False))
    after = rows(("a", "share", 10, 12.3400001, False), ("b", "share", 12, 20.0, False), ("c", "count", 130, None, False),
                 ("e", "share", 1, None, True))
    changes = figure_changes(before, after)
    assert changes.values.tolist() == [["b", "suppressed", "20.0%"], ["c", "129", "130"], ["d", "50.0%", "none"],
                                       ["e", "none", "suppressed"]]  # a's change is below what is shown
    assert figure_changes(before.head(0), after).empty  # first computed: nothing published changes
