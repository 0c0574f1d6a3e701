"""Weights and weighted figures (``warehouse/weighting.py``, the weighted estimators of ``warehouse/statistics.py``,
the codebook's ``weighting:``), against published figures and a hand-made population.

Back tests typed in from their sources: Kish's effective base from Quantipy's weighting diagnostics page
(n 1,621, (Σw)² 2,725,801, Σw² 2,255.6185 → 1,208.4, efficiency 74.55%); a design-effect interval from the
Scottish Patient Experience Survey 2011/12 technical report, Annex D (p 0.88, n 7,878, deft 1.118110 → a 95%
half-width of 0.80 percentage points)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, CodebookError, load_codebook
from tests.staff_pulse_wave import CELLS, staff_wave as _staff_wave, weighted_wave as _weighted_wave
from warehouse.statistics import (
    normal_interval_with_design_effect,
    t_interval,
    weighted_means,
    weighted_shares,
    wilson_interval,
)
from warehouse.weighting import (
    PopulationRefused,
    diagnostics,
    kish_effective_base,
    post_stratified_weights,
    read_population,
    trim,
)



def test_kish_effective_base_against_quantipys_published_example():
    effective = kish_effective_base(np.sqrt(2_725_801), 2_255.6185)
    assert round(effective, 1) == 1208.4
    assert round(100 * effective / 1621, 2) == 74.55


def test_a_design_effect_interval_against_the_scottish_patient_experience_survey():
    low, high = normal_interval_with_design_effect(0.88, 7878, 1.118110)
    assert round(100 * (high - low) / 2, 2) == 0.80
    effective = 7878 / 1.118110 ** 2  # Wilson on the effective base, as the published shares have it
    w_low, w_high = wilson_interval([0.88 * effective], [effective])
    assert round(100 * (w_high[0] - w_low[0]) / 2, 2) == 0.80


def weighted_share(ticked, weights) -> dict:
    """One weighted share of the respondents ``weighted_shares`` is given the sums of, with its design effect."""
    y, w = np.asarray(ticked, dtype=float), np.asarray(weights, dtype=float)
    result = {k: float(v[0]) for k, v in weighted_shares([w.sum()], [(w * w).sum()], [(w * y).sum()]).items()}
    return {**result, "design_effect": len(w) / result["effective_base"]}


def weighted_mean(values, weights) -> dict:
    x, w = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    return {k: float(v[0]) for k, v in weighted_means([w.sum()], [(w * w).sum()], [(w * x).sum()],
                                                      [(w * x * x).sum()]).items()}


@pytest.mark.parametrize("seed", range(5))
def test_equal_weights_give_the_unweighted_values_and_intervals(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 400))
    ticked, numbers = rng.random(n) < rng.random(), rng.integers(0, 11, n).astype(float)
    weights = np.full(n, rng.uniform(0.1, 40))

    share, mean = weighted_share(ticked, weights), weighted_mean(numbers, weights)

    low, high = wilson_interval([ticked.sum()], [n])
    assert share["value"] == pytest.approx(100 * ticked.sum() / n, rel=1e-12)
    assert (share["ci_low"], share["ci_high"]) == (pytest.approx(100 * low[0], rel=1e-12),
                                                   pytest.approx(100 * high[0], rel=1e-12))
    assert share["effective_base"] == pytest.approx(n, rel=1e-12) and share["design_effect"] == pytest.approx(1)
    t_low, t_high = t_interval([numbers.mean()], [numbers.std(ddof=1)], [n])
    assert mean["value"] == pytest.approx(numbers.mean(), rel=1e-12)
    assert mean["sd"] == pytest.approx(numbers.std(ddof=1), rel=1e-12)
    assert (mean["ci_low"], mean["ci_high"]) == (pytest.approx(t_low[0], rel=1e-12), pytest.approx(t_high[0], rel=1e-12))


def _population(tmp_path, rows, header="trust_code,occupational_group,headcount"):
    path = tmp_path / "population.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def staff():
    return load_codebook(BUNDLED_CODEBOOKS_DIR / "staff-pulse.yaml").model_copy(update={"weighting": _weighting()})


def _weighting():
    from schemas.weighting import Weighting

    return Weighting(method="post_stratify", cells=CELLS)


def test_post_stratification_against_a_hand_made_population(tmp_path, staff, resolver):
    # RY9 merged into RAX: the population's old code is the respondents' current one.
    population = read_population(_population(tmp_path, [
        "RC9,nursing_midwifery,100", "RC9,admin_clerical,50", "RY9,nursing_midwifery,30", "RY9,admin_clerical,20",
    ]), staff, resolver)
    respondents = pd.DataFrame(
        [("RC9", "nursing_midwifery")] * 4 + [("RC9", "admin_clerical")] + [("RAX", "nursing_midwifery")] * 3,
        columns=CELLS)

    result = post_stratified_weights(respondents, population)

    # 100 / 4, 50 / 1, 30 / 3: the weights add up to 180, the people of the three cells with respondents
    assert result.weights.tolist() == [25.0] * 4 + [50.0] + [10.0] * 3
    assert result.cells_without_respondents == 1 and result.warnings == ()  # RAX admin: 20 people, nobody answered
    # two nurses of RC9 and its one administrator ticked: (2 × 25 + 50) / 180
    share = weighted_share([1, 1, 0, 0, 1, 0, 0, 0], result.weights)
    assert share["value"] == pytest.approx(100 * 100 / 180)
    # (Σw)² / Σw² = 180² / (4 × 625 + 2,500 + 3 × 100) = 32,400 / 5,300
    assert share["effective_base"] == pytest.approx(32_400 / 5_300)
    assert share["design_effect"] == pytest.approx(8 / (32_400 / 5_300))
    summary = diagnostics(result.weights)
    assert (summary["min_weight"], summary["median_weight"], summary["max_weight"]) == (10.0, 25.0, 50.0)
    assert summary["efficiency"] == pytest.approx(32_400 / 5_300 / 8)


def test_a_cell_with_more_respondents_than_people_is_a_warning(tmp_path, staff, resolver):
    population = read_population(_population(tmp_path, ["RC9,nursing_midwifery,2"]), staff, resolver)
    result = post_stratified_weights(pd.DataFrame([("RC9", "nursing_midwifery")] * 3, columns=CELLS), population)
    assert result.warnings == (
        "trust_code RC9 × occupational_group nursing_midwifery: 3 respondents but a headcount of 2",)
    assert result.weights.tolist() == pytest.approx([2 / 3] * 3)


@pytest.mark.parametrize(("rows", "header", "message"), [
    (["RC9,nursing_midwifery,100"], "trust_code,headcount", "missing columns ['occupational_group']"),
    (["RC9,nursing_midwifery,12.5"], None, "row 2, column headcount: '12.5' is not a whole number"),
    (["RC9,nursing_midwifery,10", "RC9,nursing_midwifery,11"], None,
     "row 3: the cell trust_code RC9 × occupational_group nursing_midwifery is listed twice"),
    (["RC9,nurses,10"], None, "row 2, column occupational_group: 'nurses' is not an option id of occupational_group"),
    (["ZZZ,nursing_midwifery,10"], None, "row 2, column trust_code: 'ZZZ' is not a trust of the reference list"),
])
def test_a_population_file_that_cannot_give_weights_is_refused_on_one_line(tmp_path, staff, resolver, rows, header,
                                                                            message):
    path = _population(tmp_path, rows, *([header] if header else []))
    with pytest.raises(PopulationRefused) as refused:
        read_population(path, staff, resolver)
    assert str(refused.value).startswith("population.csv") and message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_respondents_of_a_cell_without_people_are_refused(tmp_path, staff, resolver):
    population = read_population(_population(tmp_path, ["RC9,nursing_midwifery,0", "RJN,other,5"]), staff, resolver)
    respondents = pd.DataFrame([("RC9", "nursing_midwifery"), ("RC9", "admin_clerical")], columns=CELLS)
    with pytest.raises(PopulationRefused, match=r"^2 cells with respondents have no population"):
        post_stratified_weights(respondents, population)


def test_trimming_caps_at_a_multiple_of_the_mean_and_keeps_the_total():
    # four weights a and one b = 2 × mean, with 4a + b = 14: b = 8a / 3, so a = 2.1 and b = 5.6
    trimmed, share = trim(np.array([1.0, 1, 1, 1, 10]), cap=2)
    assert trimmed.tolist() == pytest.approx([2.1, 2.1, 2.1, 2.1, 5.6]) and share == 0.2
    same, none = trim(np.array([1.0, 2, 3]), cap=2)
    assert same.tolist() == [1.0, 2.0, 3.0] and none == 0.0


def test_a_codebook_declares_its_weighting_by_cells_or_margins(tmp_path):
    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / "staff-pulse.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "staff-pulse.yaml"
    for weighting, refusal in (
        ({"method": "post_stratify", "cells": CELLS, "trim": 5}, None),
        ({"method": "post_stratify", "cells": ["trust_code", "grade"]}, "weighting cells ['grade'] are neither"),
        ({"method": "rake", "cells": CELLS}, "rake weighting names its margins"),
        ({"method": "rake", "margins": ["trust_type", "region"], "trim": 0.5}, "trim"),
    ):
        path.write_text(yaml.safe_dump({**raw, "weighting": weighting}), encoding="utf-8")
        if refusal is None:
            assert load_codebook(path).weighting.cells == tuple(CELLS)
        else:
            with pytest.raises(CodebookError, match=re.escape(refusal)):
                load_codebook(path)


# --- a weighted wave, end to end ---------------------------------------------------------------------------

def test_the_demos_staff_pulse_respondents_carry_their_cells_weights(demo_run):
    """Each respondent's weight is their cell's headcount over its respondents, worked out here from the delivered
    export and population file; the diagnostics are Kish's on those weights; the board survey is unweighted."""
    import duckdb

    weighted, cells, population = _weighted_wave()
    expected = weighted["weight"].sort_values().to_numpy()

    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        stored = np.array([w for (w,) in con.execute("SELECT weight FROM respondents WHERE survey_id = 'staff-pulse' "
                                                     "AND wave_id = '2026Q3' ORDER BY weight").fetchall()])
        summary = con.execute("SELECT respondents, sum_of_weights, effective_base, design_effect, "
                              "cells_without_respondents FROM weighting_diagnostics WHERE wave_id = '2026Q3'").fetchone()
        unweighted = con.execute("SELECT count(weight) FROM respondents WHERE survey_id = 'improvement-journey'"
                                 ).fetchone()
    assert stored == pytest.approx(expected, rel=1e-12)
    assert summary[1] == pytest.approx(cells["headcount"].sum())  # the people of the cells with respondents
    assert summary[2] == pytest.approx(expected.sum() ** 2 / (expected ** 2).sum())
    assert summary[3] == pytest.approx(len(expected) / summary[2]) and summary[0] == len(expected)
    assert summary[4] == len(population) - len(cells)
    assert unweighted == (0,)


def _home_with(tmp_path, population_rows: list[str] | None) -> tuple:
    import shutil

    export, population_csv = _staff_wave()
    wave = tmp_path / "landing" / "staff-pulse" / "2026Q3"
    wave.mkdir(parents=True)
    shutil.copy2(export, wave / export.name)
    if population_rows is not None:
        (wave / "population.csv").write_text("\n".join(population_rows) + "\n", encoding="utf-8")
        (wave / "wave.yaml").write_text("population_file: population.csv\n", encoding="utf-8")
    return tmp_path, population_csv


def _run(home):
    from typer.testing import CliRunner

    from pipelines.cli import app

    return CliRunner().invoke(app, ["run", "--home", str(home)], terminal_width=300)


def test_a_weighted_surveys_wave_without_its_population_is_refused_and_nothing_loaded(tmp_path):
    home, _ = _home_with(tmp_path, None)
    result = _run(home)
    assert result.exit_code == 1
    assert ("staff-pulse/2026Q3: FAILED: step wave_responses: Wave 2026Q3 not loaded: the staff-pulse codebook "
            "weights each wave to its population (trust_code × occupational_group): wave 2026Q3's wave.yaml names "
            "no population_file") in result.output


def test_respondents_in_a_cell_the_population_lacks_refuse_the_wave_whole(tmp_path):
    _, population_csv = _staff_wave()
    rows = population_csv.read_text(encoding="utf-8").splitlines()
    home, _ = _home_with(tmp_path, [rows[0], *[r for r in rows[1:] if ",medical_dental," not in r]])
    result = _run(home)
    assert result.exit_code == 1
    assert "cells with respondents have no population (no row, or a headcount of 0): trust_code" in result.output
    import duckdb

    with duckdb.connect(str(home / "working" / "staff-pulse" / "survey.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM respondents").fetchone() == (0,)  # rolled back with the load


def test_a_corrected_population_file_changes_the_waves_inputs(tmp_path):
    from home.landing import scan_landing

    _, population_csv = _staff_wave()
    home, _ = _home_with(tmp_path, population_csv.read_text(encoding="utf-8").splitlines())
    [wave] = scan_landing(home / "landing")
    assert [p.name for p in wave.files] == ["staff-pulse_2026Q3_SYNTHETIC.csv"]  # the population is not an export
    before = wave.inputs_fingerprint("codebook")
    population = home / "landing" / "staff-pulse" / "2026Q3" / "population.csv"
    population.write_text(population.read_text(encoding="utf-8").replace(",1", ",2", 1), encoding="utf-8")
    [again] = scan_landing(home / "landing")
    assert again.inputs_fingerprint("codebook") != before


def test_the_weighting_is_reported_in_the_waves_dagster_metadata(demo_run):
    import dagster as dg

    from home.settings import SurveyHome
    from pipelines.instance import instance_for

    with instance_for(SurveyHome(demo_run.home)) as instance:
        records = instance.fetch_materializations(dg.AssetKey("wave_responses"), limit=100).records
    metadata = {r.partition_key: r.asset_materialization.metadata for r in records}
    staff = metadata["staff-pulse/2026Q3"]
    assert 0.7 < staff["weighting_efficiency"].value < 1 and staff["design_effect"].value > 1
    assert staff["effective_base"].value < 2091
    assert "weighting_efficiency" not in metadata["improvement-journey/2023"]


def test_the_demos_weighted_figures_are_those_of_the_file_and_its_population(demo_run):
    """A share and a theme score of 2026Q3 weighted by hand from the delivered file: Σw·y / Σw over the base, Kish's
    effective base, Wilson's interval on it (statsmodels, called here); medians and counts are not weighted."""
    import duckdb
    from statsmodels.stats.proportion import proportion_confint

    wave, _, _ = _weighted_wave()
    answered = wave[wave["eng_enthusiastic"].notna()]
    w, y = answered["weight"], answered["eng_enthusiastic"].isin(["Agree", "Strongly agree"])
    share, effective = (w * y).sum() / w.sum(), w.sum() ** 2 / (w * w).sum()
    low, high = proportion_confint(share * effective, effective, alpha=0.05, method="wilson")
    points = {"Strongly disagree": 0, "Disagree": 2.5, "Neither agree nor disagree": 5, "Agree": 7.5, "Strongly agree": 10}
    items = ["eng_enthusiastic", "eng_time_passes", "eng_recommend_work", "eng_recommend_care"]
    scores = wave[items].apply(lambda column: column.map(points))
    counted = scores.notna().sum(axis=1) >= 2
    theme = (scores[counted].mean(axis=1) * wave.loc[counted, "weight"]).sum() / wave.loc[counted, "weight"].sum()

    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT indicator_id, value_weighted, ci_low_weighted, ci_high_weighted, effective_base, design_effect, base "
            "FROM headline_indicators WHERE survey_id = 'staff-pulse' AND wave_id = '2026Q3'").df().set_index("indicator_id")
        board = con.execute("SELECT count(value_weighted) FROM headline_indicators "
                            "WHERE survey_id = 'improvement-journey'").fetchone()
    positive = rows.loc["eng_enthusiastic.positive"]
    assert positive["value_weighted"] == pytest.approx(100 * share, rel=1e-9)
    assert positive["effective_base"] == pytest.approx(effective, rel=1e-9)
    assert positive["design_effect"] == pytest.approx(len(answered) / effective, rel=1e-9)
    assert (positive["ci_low_weighted"], positive["ci_high_weighted"]) == (pytest.approx(100 * low, rel=1e-9),
                                                                           pytest.approx(100 * high, rel=1e-9))
    assert rows.loc["engagement.score", "value_weighted"] == pytest.approx(theme, rel=1e-9)
    assert rows.loc[["unpaid_hours.median", "respondents"], "value_weighted"].isna().all()
    assert board == (0,)


def test_a_weighted_change_is_tested_on_the_effective_bases(demo_run):
    """qi_training.yes from 2026Q2 to 2026Q3: the pooled two-proportion z-test written out here, on each wave's
    weighted share and effective base (the count p_w · n_eff, unrounded); counts are not tested weighted."""
    import duckdb
    from scipy.stats import norm

    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        waves = dict(con.execute(
            "SELECT wave_id, [value_weighted / 100, effective_base] FROM headline_indicators "
            "WHERE survey_id = 'staff-pulse' AND indicator_id = 'qi_training.yes' AND wave_id IN ('2026Q2', '2026Q3')"
        ).fetchall())
        change, significant, counted = con.execute(
            "SELECT change_weighted, significant_weighted, (SELECT count(change_weighted) FROM indicator_trends "
            "WHERE indicator_id = 'respondents') FROM indicator_trends WHERE survey_id = 'staff-pulse' "
            "AND indicator_id = 'qi_training.yes' AND wave_id = '2026Q3'").fetchone()
    (p1, n1), (p2, n2) = waves["2026Q2"], waves["2026Q3"]
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p2 - p1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert change == pytest.approx(100 * (p2 - p1), rel=1e-9)
    assert significant == (2 * norm.sf(abs(z)) < 0.05)
    assert counted == 0


def test_the_demos_weighted_breakdowns_are_those_of_the_file_and_its_population(demo_run):
    """eng_enthusiastic.positive by occupational group and by region in 2026Q3, weighted here from the delivered
    file (the group's Σw·y / Σw and its effective base), beside the unweighted cell, which keeps its base."""
    import duckdb

    from schemas.reference import load_trusts

    wave, _, _ = _weighted_wave()
    answered = wave[wave["eng_enthusiastic"].notna()].assign(
        y=lambda f: f["eng_enthusiastic"].isin(["Agree", "Strongly agree"]),
        region=lambda f: f["trust_code"].map(load_trusts().set_index("ods_code")["region"]).replace(
            {"London": "London and national trusts", "National": "London and national trusts"}))  # as pooled
    labels = {o.id: o.label for o in load_codebook(BUNDLED_CODEBOOKS_DIR / "staff-pulse.yaml")
              .respondent.field("occupational_group").options}
    answered["occupational_group"] = answered["occupational_group"].map(labels)

    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        cells = con.execute(
            "SELECT dimension, category, base, value_weighted, effective_base, design_effect, suppressed "
            "FROM indicator_breakdowns WHERE survey_id = 'staff-pulse' AND wave_id = '2026Q3' "
            "AND indicator_id = 'eng_enthusiastic.positive'").df().set_index(["dimension", "category"])
    checked = 0
    for dimension in ("occupational_group", "region"):
        for category, group in answered.groupby(dimension):
            cell = cells.loc[(dimension, category)]
            if cell["suppressed"]:
                assert pd.isna(cell["value_weighted"])
                continue
            w = group["weight"]
            effective = w.sum() ** 2 / (w * w).sum()
            assert cell["base"] == len(group)
            assert cell["value_weighted"] == pytest.approx(100 * (w * group["y"]).sum() / w.sum(), rel=1e-9)
            assert cell["effective_base"] == pytest.approx(effective, rel=1e-9)
            assert cell["design_effect"] == pytest.approx(len(group) / effective, rel=1e-9)
            checked += 1
    assert checked >= 8


def test_the_staff_pulse_pack_lists_each_waves_population_file(demo_run):
    """The manifest traces the weighted figures to the population files too: each wave's, by the sha256 of the
    bytes delivered, and its archived copy in the home holds those bytes."""
    import hashlib
    import json

    from publish.pack import MANIFEST

    manifest = json.loads((demo_run.home / "publish" / "staff-pulse" / "2026Q3" / MANIFEST).read_text(encoding="utf-8"))
    populations = [i for i in manifest["inputs"] if i["kind"] == "population"]
    assert [i["wave_id"] for i in populations] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    for entry in populations:
        delivered = _staff_wave(entry["wave_id"])[1]
        digest = hashlib.sha256(delivered.read_bytes()).hexdigest()
        assert entry["file"] == delivered.name and entry["sha256"] == digest
        assert hashlib.sha256((demo_run.home / entry["archived_as"]).read_bytes()).hexdigest() == digest
    assert {i["kind"] for i in manifest["inputs"]} == {"export", "population"}


def test_a_weighting_below_70_percent_efficiency_is_a_warning_in_the_run_and_the_pack(tmp_path, capfd):
    """The medical and dental staff's headcounts put at 60 times what they are: their few respondents weigh so much
    more than the rest that the weights are worth far fewer than the respondents. The wave still loads; the run's
    log and the pack's Notes sheet say to re-examine the scheme, with the efficiency computed here."""
    import openpyxl
    from typer.testing import CliRunner

    from pipelines.cli import app
    from publish.pack import WORKBOOK

    _, population_csv = _staff_wave()
    population = pd.read_csv(population_csv)
    population.loc[population["occupational_group"] == "medical_dental", "headcount"] *= 60
    rows = population.to_csv(index=False).splitlines()
    home, _ = _home_with(tmp_path, rows)
    wave, _, _ = _weighted_wave()
    weights = wave.drop(columns="weight").merge(
        wave.groupby(CELLS).size().rename("respondents").reset_index().merge(population, on=CELLS)
        .assign(weight=lambda c: c["headcount"] / c["respondents"])[[*CELLS, "weight"]], on=CELLS)["weight"]
    efficiency = weights.sum() ** 2 / (weights ** 2).sum() / len(weights)
    assert efficiency < 0.7

    result = CliRunner().invoke(app, ["run", "--home", str(home), "--log-level", "WARNING"], terminal_width=300)

    assert result.exit_code == 0, result.output
    logged = result.output + capfd.readouterr().err
    assert f"the weights' efficiency is {100 * efficiency:.0f}%" in logged and "re-examine the weighting scheme" in logged
    notes = openpyxl.load_workbook(home / "publish" / "staff-pulse" / "2026Q3" / WORKBOOK)["Notes"]
    lines = {row[0]: row[1] for row in notes.iter_rows(values_only=True) if row[0]}
    assert lines["Weighting warning"].startswith(f"The weighting of wave 2026Q3 ({efficiency:.0%}) is less than 70% "
                                                 "efficient")
    assert f"(efficiency {efficiency:.0%}, design effect {1 / efficiency:.2f})" in lines["Weights, wave 2026Q3"]


def test_the_weighted_surveys_pack_tells_weighted_figures_everywhere_with_unweighted_bases(demo_run):
    """The trends CSV and the breakdown sheets tell the weighted values the brief tells (the warehouse's
    value_weighted), beside the unweighted base, and say so; the board survey's stay unweighted."""
    import duckdb
    import openpyxl

    from publish.pack import TRENDS_CSV, WORKBOOK

    out = demo_run.home / "publish" / "staff-pulse" / "2026Q3"
    trends = pd.read_csv(out / TRENDS_CSV).set_index(["indicator", "wave"])
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        weighted = con.execute("SELECT indicator_id, wave_id, value_weighted, base FROM headline_indicators "
                               "WHERE survey_id = 'staff-pulse' AND indicator_id = 'qi_training.yes'").fetchall()
        by_group = dict(con.execute(
            "SELECT category, value_weighted FROM indicator_breakdowns WHERE survey_id = 'staff-pulse' AND wave_id = "
            "'2026Q3' AND indicator_id = 'qi_training.yes' AND dimension = 'occupational_group'").fetchall())
    for indicator, wave, value, base in weighted:
        row = trends.loc[(indicator, wave)]
        assert row["percentage"] == pytest.approx(value, abs=0.05) and row["base"] == base
        assert row["weighted"] and pd.isna(row["numerator"])
    sheet = openpyxl.load_workbook(out / WORKBOOK)["By occupational group"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Indicator")
    groups = [g for g in rows[header - 1][1:-1] if g]
    [training] = [r for r in rows if r[-1] == "qi_training.yes"]
    shown = dict(zip(groups, training[1:-1:2]))
    assert shown and all(shown[g] == pytest.approx(by_group[g] / 100, abs=1e-9) for g in shown)
    assert any("weighted" in str(r[0]) for r in rows[:header])
    board = pd.read_csv(demo_run.home / "publish" / "improvement-journey" / "2025" / TRENDS_CSV)
    assert not board["weighted"].any() and board["numerator"].notna().any()
