"""Breakdowns by trust type and region, disclosure control, trust-weighted shares and trust coverage.

Expectations are computed here with pandas from the raw sample file and the reference list, a route
independent of the warehouse's SQL, or typed in by hand for crafted tables."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from schemas.reference import load_trusts
from tests.conftest import SURVEY_ID, read_sample
from warehouse.breakdowns import SECONDARY, SMALL_BASE, suppress


def _row(indicator, bases):
    return pd.DataFrame({"indicator_id": indicator, "dimension": "region",
                         "category": [f"c{n}" for n in range(len(bases))], "base": bases})


def _crafted_cells() -> pd.DataFrame:
    return pd.concat([
        _row("a", [5, 12, 30, 40]),  # one small cell: the next smallest (12) must go too
        _row("b", [3, 4, 50]),  # two small cells: neither can be recovered by subtraction
        _row("c", [50, 60]),  # nothing small
        _row("d", [8]),  # a single cell: nothing else to suppress
        _row("e", [9, 15, 15]),  # a tie on the next smallest: the first category in order
    ], ignore_index=True)


CRAFTED_SUPPRESSION = [
    SMALL_BASE, SECONDARY, None, None,
    SMALL_BASE, SMALL_BASE, None,
    None, None,
    SMALL_BASE,
    SMALL_BASE, SECONDARY, None,
]


def test_a_lone_small_cell_takes_the_next_smallest_with_it():
    assert suppress(_crafted_cells(), 10).tolist() == CRAFTED_SUPPRESSION


def test_suppression_does_not_depend_on_row_order_or_index():
    cells = _crafted_cells().assign(expected=CRAFTED_SUPPRESSION)
    shuffled = cells.sample(frac=1, random_state=3)
    shuffled.index = [f"cell{n}" for n in range(len(shuffled))]
    assert suppress(shuffled.drop(columns="expected"), 10).tolist() == shuffled["expected"].tolist()


@pytest.fixture(scope="module")
def sample_2023():
    """Wave 2023 as delivered, with each respondent's trust type and region from the reference list."""
    trusts = load_trusts().rename(columns={"type": "trust_type"})
    return read_sample("2023").merge(trusts, left_on="trust_code", right_on="ods_code", how="left")


def test_breakdown_cells_match_the_raw_file(demo_run, sample_2023):
    column = "trust_barriers.operational_pressures"
    # The codebook pools the region of one trust with London (reporting.pooled_groups).
    reported = sample_2023["region"].replace({"National": "London and national trusts", "London": "London and national trusts"})
    expected = sample_2023.assign(region=reported).groupby("region").agg(base=(column, "size"), numerator=(column, lambda s: (s == "1").sum()))
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        stored = con.execute(
            """select category, numerator, base, pct, suppressed, suppression from indicator_breakdowns
               where wave_id = '2023' and indicator_id = ? and dimension = 'region'""", [column]).df()
    stored = stored.set_index("category")
    assert set(stored.index) == set(expected.index)
    assert "London and national trusts" in stored.index and "National" not in stored.index
    for region, cell in stored.iterrows():
        raw = expected.loc[region]
        if raw["base"] < 10:
            assert cell["suppressed"] and cell["suppression"] == SMALL_BASE and pd.isna(cell["pct"])
        elif cell["suppressed"]:
            assert cell["suppression"] == SECONDARY
        else:
            assert cell["base"] == raw["base"]
            assert cell["pct"] == pytest.approx(100 * raw["numerator"] / raw["base"])
            assert pd.isna(cell["numerator"]) if 1 <= raw["numerator"] <= 4 else cell["numerator"] == raw["numerator"]
    # a lone small cell is never left alone in its row
    assert (stored["suppressed"].sum() != 1)


def test_counts_of_one_to_four_are_never_shown(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        shown = con.execute("select count(*) from indicator_breakdowns where numerator between 1 and 4").fetchall()[0][0]
        hidden_but_pct = con.execute(
            "select count(*) from indicator_breakdowns where numerator is null and not suppressed and pct > 0").fetchall()[0][0]
    assert shown == 0
    assert hidden_but_pct > 0  # the bundled data do have such cells: the rule was exercised


def test_trust_weighted_share_counts_each_trust_once(demo_run, sample_2023):
    column = "trust_barriers.operational_pressures"
    weight = 1 / sample_2023.groupby("trust_code")["respondent_id"].transform("size")
    expected = 100 * (weight * (sample_2023[column] == "1")).sum() / weight.sum()
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        pct, weighted, trusts = con.execute(
            """select pct, pct_trust_weighted, trusts_base from headline_indicators
               where wave_id = '2023' and indicator_id = ?""", [column]).fetchone()
    assert weighted == pytest.approx(expected)
    assert trusts == 95
    assert weighted != pytest.approx(pct)  # 129 board members from 95 trusts: the two views differ


def test_trust_coverage_by_type_and_region(demo_run, sample_2023):
    reference = load_trusts()
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        coverage = con.execute(
            "select category, trusts_responding, trusts_in_reference from trust_coverage "
            "where wave_id = '2023' and dimension = 'trust_type'").df().set_index("category")
    responding = sample_2023.drop_duplicates("trust_code").groupby("trust_type").size()
    for trust_type, in_reference in reference.groupby("type").size().items():
        assert coverage.loc[trust_type, "trusts_in_reference"] == in_reference
        assert coverage.loc[trust_type, "trusts_responding"] == responding.get(trust_type, 0)


def test_pooled_groups_keep_secondary_suppression_from_hiding_a_whole_group(demo_run):
    """Before pooling, the one respondent of The Online NHS Trust (region National) was a lone small cell in
    every row of wave 2025, and secondary suppression hid London (11 respondents) whole. Pooled with London
    as the codebook says, every region of 2025 shows every figure, on the bases of the raw file."""
    trusts = load_trusts()
    raw = read_sample("2025").merge(trusts, left_on="trust_code", right_on="ods_code", how="left")
    pooled = int(raw["region"].isin(["London", "National"]).sum())
    assert int((raw["region"] == "National").sum()) >= 1  # the case the pooling is for is in the sample
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        cells = con.execute("select category, indicator_id, base, suppressed from indicator_breakdowns "
                            "where survey_id = ? and wave_id = '2025' and dimension = 'region'", [SURVEY_ID]).df()
        categories = set(con.execute("select distinct category from indicator_breakdowns where survey_id = ?",
                                     [SURVEY_ID]).df()["category"])
    assert not categories & {"National", "Online / Digital", "London", "Community Trusts"}
    assert not cells["suppressed"].any()
    required = cells[cells["indicator_id"].str.startswith("trust_approach_stage.")]  # a required question
    assert set(required.loc[required["category"] == "London and national trusts", "base"]) == {pooled}
