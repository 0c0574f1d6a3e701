"""A survey that asks no trust (``respondent.trust`` left out): it loads, is counted and reported like any other,
with no trust breakdowns, trust counts, coverage or trust weighting, and breakdowns by its respondent fields.

The rows are ``tests/test_scales.py``'s dozen, typed in there, under its test codebook without the trust
question; the expectations are worked out by hand from them."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipelines.cli import app
from publish.pack import BRIEF, HEADLINE_CSV
from schemas.codebook_files import CodebookError, load_codebook
from tests.conftest import write_csv
from tests.test_scales import CODEBOOK, wave_frame

SURVEY, WAVE = "scales-test", "2026Q1"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("no-trust")
    raw = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    del raw["respondent"]["trust"], raw["reporting"]["breakdowns"]  # breakdowns then default to none of a trust's
    raw["reporting"]["breakdowns"] = ["occupational_group"]
    (home / "codebooks").mkdir()
    (home / "codebooks" / CODEBOOK.name).write_text(yaml.safe_dump(raw), encoding="utf-8")
    write_csv(wave_frame().drop(columns=["trust_code"]), home / "landing" / SURVEY / WAVE / "pulse.csv")
    result = CliRunner().invoke(app, ["run", "--home", str(home)])
    assert result.exit_code == 0, result.output
    return home


def _rows(home, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "survey.duckdb"), read_only=True) as con:
        return con.execute(sql, {"survey": SURVEY}).fetchall()


def test_a_codebook_without_a_trust_has_no_trust_breakdowns_by_default(tmp_path):
    raw = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    del raw["respondent"]["trust"], raw["reporting"]["breakdowns"]
    path = tmp_path / "no-trust.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    codebook = load_codebook(path)
    assert codebook.reporting.breakdowns == () and "trust_code" not in codebook.expected_columns
    raw["reporting"]["breakdowns"] = ["region"]
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(CodebookError, match=r"breakdown dimensions \['region'\]"):
        load_codebook(path)


def test_a_survey_without_a_trust_loads_and_is_reported_without_trust_figures(home):
    # r11 is refused ("None of these" with another option): 11 respondents, none with a trust
    assert _rows(home, "select count(*), count(trust_code) from respondents where survey_id = $survey") == [(11, 0)]
    indicators = {i for (i,) in _rows(home, "select indicator_id from headline_indicators where survey_id = $survey")}
    assert "respondents" in indicators and not indicators & {"trusts_responding", "trust_coverage"}
    # eng_enthusiastic, of the ten who answered (r07 blank): SA A N D SA A SD A A N, six positive
    assert _rows(home, "select numerator, base, pct_trust_weighted from headline_indicators where survey_id = $survey "
                       "and indicator_id = 'eng_enthusiastic.positive'") == [(6, 10, None)]
    assert _rows(home, "select count(*) from trust_coverage where survey_id = $survey") == [(0,)]
    assert _rows(home, "select distinct dimension, category from indicator_breakdowns where survey_id = $survey "
                       "order by all") == [("occupational_group", "Nursing or midwifery"), ("occupational_group", "Other")]


def test_the_pack_of_a_survey_without_a_trust_says_only_how_many_responded(home):
    out = home / "publish" / SURVEY / WAVE
    headline = pd.read_csv(out / HEADLINE_CSV).set_index("indicator")
    assert headline.loc["respondents", "numerator"] == 11 and headline["percentage_trust_weighted"].isna().all()
    brief = (out / BRIEF).read_text(encoding="utf-8")
    assert "Data drawn from 11 respondents." in brief and "trusts" not in brief.split("Data drawn from", 1)[1][:40]
    assert (out / "leadership_pack.xlsx").stat().st_size > 0
