"""The second bundled survey, the staff pulse (``schemas/codebooks/staff-pulse.yaml``): its sample loads in every
layout as its plain CSV does, and its leadership pack tells scores, a theme, a routed share and numbers with the
values worked out here from the delivered file, independently of the pipeline (the NHS Staff Survey's scoring:
strongly disagree 0, disagree 2.5, neither 5, agree 7.5, strongly agree 10; a theme is the mean of respondents'
mean item scores, over those answering at least two of its four items)."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from publish.pack import BRIEF, HEADLINE_CSV
from sample_data.generator import LANDING_DIR, sample_file_name
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.reference import load_trusts
from tests.conftest import write_csv
from tests.exports import BUILDERS
from validation.engine import validate_wave
from warehouse.connection import connect
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.indicators import compute_headline_indicators, write_headline_indicators
from tests.staff_pulse_wave import weighted_wave
from warehouse.load import load_wave
from warehouse.pseudonyms import Pseudonymiser
from warehouse.weighting import wave_population

SURVEY, WAVE = "staff-pulse", "2026Q3"
POINTS = {"Strongly disagree": 0, "Disagree": 2.5, "Neither agree nor disagree": 5, "Agree": 7.5, "Strongly agree": 10}
ITEMS = ["eng_enthusiastic", "eng_time_passes", "eng_recommend_work", "eng_recommend_care"]


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(BUNDLED_CODEBOOKS_DIR / f"{SURVEY}.yaml")


def delivered(wave_id: str = WAVE) -> pd.DataFrame:
    return pd.read_csv(LANDING_DIR / SURVEY / wave_id / sample_file_name(SURVEY, wave_id), dtype=str,
                       keep_default_na=False, na_values=[""])


def _brief_text(demo_run) -> str:
    page = (demo_run.home / "publish" / SURVEY / WAVE / BRIEF).read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[1])))


def test_the_brief_tells_the_theme_scores_and_numbers_worked_out_from_the_file(demo_run):
    """The staff pulse is weighted: the brief tells each share and mean weighted (Σw·y / Σw, each respondent's
    weight their cell's headcount over its respondents, worked out from the delivered file and population), with
    the unweighted base; a median is never weighted."""
    wave, _, _ = weighted_wave()

    def weighted(values: pd.Series) -> float:
        w = wave.loc[values.index, "weight"]
        return float((w * values).sum() / w.sum())

    scores = wave[ITEMS].apply(lambda column: column.map(POINTS))
    counted = scores.notna().sum(axis=1) >= 2
    theme = scores[counted].mean(axis=1)  # each respondent's mean over the items they answered
    enthusiastic = wave["eng_enthusiastic"].dropna()
    routed = wave[wave["qi_training"] == "Yes"]["qi_training_useful"].dropna()
    routed = routed[routed != "Don't know"]  # in the answers, out of the base
    hours = pd.to_numeric(wave["unpaid_hours"]).dropna()

    text = _brief_text(demo_run)

    assert f"Staff engagement theme score {weighted(theme):.1f} out of 10, of the {counted.sum()} who answered at " \
           "least 2 of its 4 items" in text
    positive = weighted(enthusiastic.isin(["Agree", "Strongly agree"]))
    assert (f"Enthusiastic about my job, of the {len(enthusiastic)} who answered: positive {100 * positive:.0f}%; "
            f"score {weighted(enthusiastic.map(POINTS)):.1f} out of 10") in text
    useful = weighted(routed.isin(["Very useful", "Fairly useful"]))
    assert f"Very or fairly useful {100 * useful:.0f}% of the {len(routed)} who answered" in text
    assert f"of the {len(hours)} who answered: mean {weighted(hours):.1f}" in text and f"median {hours.median():.1f}" in text
    assert "participating trusts" in text and "A score is the mean of each answer's points" in text
    assert "Figures are weighted by occupational group within trust to each wave's staff numbers" in text


def test_the_pack_csv_gives_means_on_their_scale_and_shares_in_percent(demo_run):
    wave = delivered()
    headline = pd.read_csv(demo_run.home / "publish" / SURVEY / WAVE / HEADLINE_CSV).set_index("indicator")
    recommend = pd.to_numeric(wave["recommend_0_10"]).dropna()
    row = headline.loc["recommend_0_10.mean"]
    assert (row["kind"], row["base"], pd.isna(row["percentage"])) == ("mean", len(recommend), True)
    assert row["value"] == pytest.approx(recommend.mean(), abs=0.005)
    assert row["ci_low"] < row["value"] < row["ci_high"] < 10  # a t interval on the 0-10 scale, not in %
    top_box = headline.loc["recommend_0_10.top_box"]
    assert top_box["percentage"] == pytest.approx(100 * recommend.between(9, 10).mean(), abs=0.05)
    assert len(headline) == 13  # every headline indicator of the codebook, means and medians included


def test_the_workbook_shows_means_on_their_scale_beside_shares_and_by_occupational_group(demo_run):
    from openpyxl import load_workbook

    out = demo_run.home / "publish" / SURVEY / WAVE
    headline = pd.read_csv(out / HEADLINE_CSV).set_index("indicator")
    book = load_workbook(out / "leadership_pack.xlsx")
    assert book.sheetnames[-5:] == ["By trust type", "By region", "By occupational group", "Similar trusts", "Notes"]

    def row_of(sheet, indicator):  # the id is in the table's last column
        return next(r for r in sheet.iter_rows() if any(c.value == indicator for c in r))

    theme = row_of(book["Headline"], "engagement.score")
    assert theme[1].value == pytest.approx(headline.loc["engagement.score", "value"], abs=0.005)
    assert theme[1].number_format == "0.0"  # a score, not a percentage
    share = row_of(book["Headline"], "eng_enthusiastic.positive")
    assert share[1].number_format == "0.0%"
    groups = row_of(book["By occupational group"], "engagement.score")
    shown = [c.value for c in groups[1:-1:2] if isinstance(c.value, float)]
    assert shown and all(0 < v <= 10 for v in shown)  # each group's theme score, out of 10


def test_the_workbook_charts_the_theme_and_its_items_scores_out_of_10(demo_run):
    """The headline sheet's theme chart: the engagement theme's score and its four items' scores, weighted as the
    brief tells them, each worked out here from the delivered file and population (as in the brief's test)."""
    from tests.test_workbook import _anchors_and_charts, _series, _title

    wave, _, _ = weighted_wave()

    def weighted(values: pd.Series) -> float:
        w = wave.loc[values.index, "weight"]
        return float((w * values).sum() / w.sum())

    scores = wave[ITEMS].apply(lambda column: column.map(POINTS))
    theme = scores[scores.notna().sum(axis=1) >= 2].mean(axis=1)
    expected = [weighted(theme), *(weighted(scores[item].dropna()) for item in ITEMS)]
    charts = [chart for _, chart in _anchors_and_charts(demo_run.home / "publish" / SURVEY / WAVE / "leadership_pack.xlsx",
                                                         "Headline")]
    themed = [c for c in charts if "theme and item scores out of 10" in _title(c)]
    assert len(themed) == 1 and _title(themed[0]).startswith("Staff engagement")
    (series,) = _series(themed[0])
    assert [series["points"][k] for k in sorted(series["points"])] == pytest.approx(expected, abs=0.0051)


def _load(path, codebook, resolver, db) -> dict[str, pd.DataFrame]:
    validation = validate_wave([path], codebook, WAVE, resolver)
    population = wave_population(LANDING_DIR / SURVEY / WAVE, codebook, WAVE, resolver)  # weighted, as in the demo
    with connect(db) as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, WAVE, validation, run_id="test", pseudonymise=Pseudonymiser(b"k" * 32),
                  population=population)
        write_headline_indicators(con, SURVEY, WAVE, compute_headline_indicators(con, SURVEY, WAVE, codebook.reporting))
        tables = {t: con.execute(f"select * from {t} order by all").df()
                  for t in ("respondent_fields", "responses", "numeric_responses", "headline_indicators")}
        tables["quarantine"] = con.execute("select reason from quarantine").df()
    return tables


@pytest.fixture(scope="module")
def whole_wave() -> pd.DataFrame:
    return delivered()  # routed answers, "Don't know"s, "None of these" and numbers among them


@pytest.fixture(scope="module")
def plain(codebook, resolver, whole_wave, tmp_path_factory):
    folder = tmp_path_factory.mktemp("plain")
    return _load(write_csv(whole_wave, folder / "wave.csv"), codebook, resolver, folder / "w.duckdb")


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_each_layout_of_a_staff_pulse_wave_loads_to_the_plain_csvs_figures(layout, codebook, resolver, whole_wave,
                                                                          plain, tmp_path):
    """The whole bundled wave, weighted to its population file: every respondent, answer and figure (weighted
    value, effective base and interval included) the same whichever tool's layout delivered it."""
    assert whole_wave["improvement_barriers.none"].eq("1").any() and whole_wave["qi_training_useful"].isna().any()
    build, suffix = BUILDERS[layout]
    export = build(whole_wave, codebook.for_wave(WAVE), tmp_path / f"export{suffix}")
    rows = _load(export, codebook, resolver, tmp_path / "w.duckdb")
    assert rows["quarantine"].empty, rows["quarantine"]["reason"].tolist()[:3]
    assert len(rows["respondent_fields"]) >= len(whole_wave)
    assert plain["headline_indicators"]["value_weighted"].notna().sum() > 10  # the weighted figures are compared too
    for table in ("respondent_fields", "responses", "numeric_responses", "headline_indicators"):
        pd.testing.assert_frame_equal(rows[table], plain[table], check_dtype=False, obj=f"{layout} {table}")


def test_a_group_of_ten_is_suppressed_as_the_staff_pulse_says_eleven_is_the_least(codebook, resolver, tmp_path):
    """``reporting.min_base: 11``, as the NHS Staff Survey: in the first rows of a wave in which an occupational
    group has exactly ten answers to an item, that group's cell is withheld, and every group of eleven or more is
    shown (bases counted here from the file)."""
    from warehouse.breakdowns import compute_indicator_breakdowns

    wave = delivered()
    answered = wave["eng_enthusiastic"].notna()
    rows = next(n for n in range(40, len(wave)) if (wave[:n][answered[:n]].groupby("occupational_group").size() == 10).any())
    part = wave.head(rows)
    bases = part[part["eng_enthusiastic"].notna()].groupby("occupational_group").size()
    validation = validate_wave([write_csv(part, tmp_path / "wave.csv")], codebook, WAVE, resolver)
    with connect(tmp_path / "w.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, WAVE, validation, run_id="test", pseudonymise=Pseudonymiser(b"k" * 32))
        cells = compute_indicator_breakdowns(con, SURVEY, WAVE, codebook.reporting)
    cells = cells[(cells["dimension"] == "occupational_group") & (cells["indicator_id"] == "eng_enthusiastic.score")]
    shown = cells.set_index("category")
    assert set(shown.index) == set(bases.index)
    for group, base in bases.items():
        assert (shown.loc[group, "suppression"] == "small base") == (base < 11), (group, base)
    assert 10 in set(bases)


def test_the_dagster_instance_holds_both_surveys_waves_as_partitions_each_materialised(demo_run):
    """What the UI's partition view of `wave_responses` lists after `survey demo`."""
    import dagster as dg

    from assets.constants import WAVE_PARTITIONS
    from home.settings import SurveyHome
    from pipelines.instance import instance_for

    with instance_for(SurveyHome(demo_run.home)) as instance:
        keys = set(instance.get_dynamic_partitions(WAVE_PARTITIONS))
        materialised = {r.partition_key for r in instance.fetch_materializations(
            dg.AssetKey("wave_responses"), limit=100).records}
    waves = {f"improvement-journey/{w}" for w in ("2023", "2024", "2025")}
    waves |= {f"{SURVEY}/{w}" for w in ("2025Q4", "2026Q1", "2026Q2", "2026Q3")}
    assert keys == waves and materialised == waves


def test_group_figures_in_the_warehouse_are_those_of_the_file(demo_run):
    """By occupational group, worked out from the delivered file: the theme score, and the median of unpaid hours
    (a median cannot be added up from other counts); the brief tells hours as a mean, not "out of 80"."""
    import duckdb

    wave = delivered()
    scores = wave[ITEMS].apply(lambda column: column.map(POINTS))
    wave["theme"] = scores.mean(axis=1).where(scores.notna().sum(axis=1) >= 2)
    wave["hours"] = pd.to_numeric(wave["unpaid_hours"])
    expected = wave.groupby("occupational_group").agg(theme=("theme", "mean"), hours=("hours", "median"))
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        stored = con.execute(
            "SELECT category, indicator_id, value FROM indicator_breakdowns WHERE survey_id = ? AND wave_id = ? "
            "AND dimension = 'occupational_group' AND indicator_id IN ('engagement.score', 'unpaid_hours.median')",
            [SURVEY, WAVE]).df().pivot(index="category", columns="indicator_id", values="value")
    assert len(stored) == len(expected) == 6
    for group, row in expected.iterrows():
        assert stored.loc[group, "engagement.score"] == pytest.approx(row["theme"], rel=1e-9)
        assert stored.loc[group, "unpaid_hours.median"] == row["hours"]
    text = _brief_text(demo_run)
    recommend = pd.to_numeric(wave["recommend_0_10"]).mean()
    assert "out of 80" not in text
    assert f"mean {recommend:.1f} out of 10" in text.split("Likelihood to recommend", 1)[1][:120]


def test_values_refused_in_a_field_a_grid_item_and_a_number_are_kept_private(codebook, resolver, tmp_path):
    """The staff pulse's own cells: each refused value is in the quarantine's offending_value (the private file)
    and described, never repeated, in the reason that logs and Dagster metadata show."""
    planted = {"occupational_group": "Dr Pat Example-Jones", "eng_enthusiastic": "pat@example.nhs.uk",
               "unpaid_hours": "07700 900123"}
    part = delivered().head(40).copy()
    for row, (column, value) in enumerate(planted.items(), start=3):
        part.loc[row, column] = value
    validation = validate_wave([write_csv(part, tmp_path / "wave.csv")], codebook, WAVE, resolver)

    quarantine = validation.quarantine.set_index("column_name")
    assert set(quarantine.index) == set(planted)
    for column, value in planted.items():
        assert quarantine.loc[column, "offending_value"] == value
        assert value not in quarantine.loc[column, "reason"] and "characters:" in quarantine.loc[column, "reason"]
    shown = " ".join([*validation.notes, str(validation.cleaned_by_rule()), str(validation.refusal_for_quarantine(0.01))])
    assert not any(value in shown for value in planted.values())
