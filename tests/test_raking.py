"""Raking to margins (``warehouse/raking.py``, the codebook's ``weighting: {method: rake}``): a raking worked out
by hand, starting weights kept, refusals that fail loudly, trimming, and the board survey raked to the reference
list's trust types and regions end to end (its bundled codebook leaves it unweighted).

The hand-worked example: four respondents, types A A B B and regions N S N S, all starting at 1, raked to type
shares 1/2, 1/2 and region shares 3/4, 1/4 of the 4 respondents. The type margin already holds; the region pass
scales N by 3 / 2 and S by 1 / 2, giving 1.5, 0.5, 1.5, 0.5, and the type margin still holds (2 and 2)."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipelines.cli import app
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR
from schemas.reference import load_trusts
from tests.conftest import SURVEY_ID, sample_wave_path
from warehouse.raking import RakingRefused, margin_gap, rake, rake_and_trim

TYPES = pd.Series({"A": 0.5, "B": 0.5})
REGIONS = pd.Series({"N": 0.75, "S": 0.25})


def _categories(types, regions) -> pd.DataFrame:
    return pd.DataFrame({"type": list(types), "region": list(regions)})


def _plain_raking(start, categories, targets, rounds=1000):
    """Raking written out: scale each margin's categories to their targets in turn, many times over."""
    weights = np.asarray(start, dtype=float).copy()
    for _ in range(rounds):
        for margin, shares in targets.items():
            for category, share in shares.items():
                members = (categories[margin] == category).to_numpy()
                weights[members] *= share * len(weights) / weights[members].sum()
    return weights


def test_a_raking_worked_out_by_hand():
    weights = rake(np.ones(4), _categories("AABB", "NSNS"), {"type": TYPES, "region": REGIONS})
    assert weights == pytest.approx([1.5, 0.5, 1.5, 0.5], abs=1e-9)


def test_starting_weights_are_kept_and_the_margins_met():
    """Ten respondents of three types and two regions with unequal starting weights (the third twice the first, in
    the same cell): the result is the plain raking's, and the two keep their ratio."""
    categories = _categories("AAAABBBCCC", "NSNSNSNSNS")
    targets = {"type": pd.Series({"A": 0.3, "B": 0.3, "C": 0.4}), "region": pd.Series({"N": 0.6, "S": 0.4})}
    start = np.array([1, 1, 2, 1, 0.5, 0.5, 0.5, 1, 1, 1])
    weights = rake(start, categories, targets, tolerance=1e-10, max_iterations=1000)
    assert weights == pytest.approx(_plain_raking(start, categories, targets), rel=1e-8)
    assert weights[2] / weights[0] == pytest.approx(2)
    assert weights.sum() == pytest.approx(10) and margin_gap(weights, categories, targets) < 1e-10


def test_a_margin_category_with_no_respondent_refuses_the_raking():
    targets = {"type": pd.Series({"A": 0.4, "B": 0.4, "C": 0.2}), "region": REGIONS}
    with pytest.raises(RakingRefused, match="raking to type refused: no respondent's trust is in C"):
        rake(np.ones(4), _categories("AABB", "NSNS"), targets)


def test_raking_that_does_not_converge_fails_loudly():
    categories = _categories("AAAABBBCCC", "NSNSNSNSNS")
    targets = {"type": pd.Series({"A": 0.3, "B": 0.3, "C": 0.4}), "region": pd.Series({"N": 0.6, "S": 0.4})}
    start = np.array([1, 1, 2, 1, 0.5, 0.5, 0.5, 1, 1, 1])
    with pytest.raises(RakingRefused, match=r"did not converge in 1 iterations: a margin's weighted share is .* from "
                                            r"its target \(tolerance 1e-06\)"):
        rake(start, categories, targets, max_iterations=1)


def test_trimming_caps_the_raked_weights_and_rakes_again():
    """Most respondents in A: the few in B get large weights; capped at 3 times the mean, raked again, none is
    over the cap and the margins still hold."""
    categories = _categories("AAAAAAAAAB" * 2, "NS" * 10)
    targets = {"type": pd.Series({"A": 0.6, "B": 0.4}), "region": pd.Series({"N": 0.5, "S": 0.5})}
    start = np.ones(20)
    untrimmed = rake(start, categories, targets)
    assert untrimmed.max() > 3 * untrimmed.mean()
    with pytest.raises(RakingRefused, match="did not settle"):  # a cap the margins cannot meet (B must weigh 4×)
        rake_and_trim(start, categories, targets, cap=3)
    # Raking keeps weights alike within a cell, so only weights unequal from the start can be trimmed: one
    # respondent starting at 8 (a trust of one respondent, say), capped and raked again with their cell.
    balanced = {"type": pd.Series({"A": 0.5, "B": 0.5}), "region": pd.Series({"N": 0.5, "S": 0.5})}
    categories, start = _categories("AB" * 10, "NNSS" * 5), np.r_[8.0, np.ones(19)]
    assert rake(start, categories, balanced).max() > 2 * 1  # it needs trimming (the mean weight is 1)
    weights, trimmed = rake_and_trim(start, categories, balanced, cap=2)
    assert weights.max() <= 2 * weights.mean() * (1 + 1e-6) and weights.sum() == pytest.approx(20)
    assert margin_gap(weights, categories, balanced) < 1e-6 and trimmed == pytest.approx(1 / 20)


@pytest.fixture(scope="module")
def raked_home(tmp_path_factory):
    """The board survey's 2023 wave under its codebook with ``weighting: {method: rake}`` added."""
    home = tmp_path_factory.mktemp("raked")
    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text(encoding="utf-8"))
    raw["weighting"] = {"method": "rake", "margins": ["trust_type", "region"]}
    (home / "codebooks").mkdir()
    (home / "codebooks" / f"{SURVEY_ID}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    wave = home / "landing" / SURVEY_ID / "2023"
    wave.mkdir(parents=True)
    shutil.copy2(sample_wave_path("2023"), wave)
    result = CliRunner().invoke(app, ["run", "--home", str(home)])
    assert result.exit_code == 0, result.output
    return home, raw["reporting"]["pooled_groups"]


def test_the_board_survey_raked_to_the_reference_lists_margins(raked_home):
    home, pooled = raked_home
    trusts = load_trusts().set_index("ods_code")
    with duckdb.connect(str(home / "warehouse" / "survey.duckdb"), read_only=True) as con:
        respondents = con.execute("SELECT trust_code, weight FROM respondents").df()
        method, trimmed = con.execute("SELECT method, trimmed_share FROM weighting_diagnostics").fetchone()
        headline = con.execute("SELECT indicator_id, value, value_weighted, pct_trust_weighted FROM headline_indicators "
                               "WHERE indicator_kind = 'share'").df()
    assert method == "rake" and trimmed == 0 and respondents["weight"].notna().all()
    assert respondents["weight"].sum() == pytest.approx(len(respondents))  # scaled to the respondents
    for margin, column in (("trust_type", "type"), ("region", "region")):
        groups = trusts[column].replace(pooled[margin])
        target = groups.value_counts(normalize=True)
        reached = respondents.groupby(respondents["trust_code"].map(groups))["weight"].sum() / len(respondents)
        assert (reached - target.reindex(reached.index)).abs().max() < 1e-6 and set(reached.index) == set(target.index)
    # Raking scales each cell of the margins as one, from each trust counting once: within a cell, a respondent's
    # weight times their trust's respondents is the same for all.
    respondents["trust_respondents"] = respondents.groupby("trust_code")["trust_code"].transform("size")
    cells = [respondents["trust_code"].map(trusts[column].replace(pooled[margin]))
             for margin, column in (("trust_type", "type"), ("region", "region"))]
    per_trust = (respondents["weight"] * respondents["trust_respondents"]).groupby(cells)
    assert (per_trust.max() / per_trust.min()).max() == pytest.approx(1, abs=1e-9)
    assert respondents["trust_respondents"].nunique() > 1  # trusts of different sizes, so it says something
    # The weighted shares differ from the unweighted ones, and the trust-weighted shares stay as they were.
    assert (headline["value_weighted"] - headline["value"]).abs().max() > 0.5
    assert headline["pct_trust_weighted"].notna().all()


def test_a_margin_with_no_responding_trust_refuses_the_wave(tmp_path):
    """A wave without the ambulance trusts' respondents cannot be raked to trust type: it is refused, whole."""
    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text(encoding="utf-8"))
    raw["weighting"] = {"method": "rake", "margins": ["trust_type"]}
    (tmp_path / "codebooks").mkdir()
    (tmp_path / "codebooks" / f"{SURVEY_ID}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    ambulance = set(load_trusts().query("type == 'Ambulance Trusts'")["ods_code"])
    wave = pd.read_csv(sample_wave_path("2023"), dtype=str, keep_default_na=False)
    landed = tmp_path / "landing" / SURVEY_ID / "2023" / "responses.csv"
    landed.parent.mkdir(parents=True)
    wave[~wave["trust_code"].isin(ambulance)].to_csv(landed, index=False)
    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path)], terminal_width=300)
    assert result.exit_code == 1
    assert ("Wave 2023 not loaded: raking to trust_type refused: no respondent's trust is in Ambulance Trusts, which "
            "the reference list has") in result.output
    with duckdb.connect(str(tmp_path / "working" / "improvement-journey" / "survey.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM respondents").fetchone() == (0,)
