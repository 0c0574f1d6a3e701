"""Back test: `survey demo` reproduces every figure of the published report (NHS Providers, 26 October
2023) from response-level data, through real Dagster runs into the DuckDB warehouse.

The expectations are typed in from the report's key findings, not computed by the code under test."""

from __future__ import annotations

import duckdb
import pytest

PUBLISHED_PERCENTAGES = {
    "trust_approach_stage.embedded": 22,
    "trust_approach_stage.implementing": 50,
    "trust_approach_stage.just_begun": 14,
    "trust_approach_stage.frontline_only": 5,
    "trust_approach_stage.committed_not_started": 7,
    "trust_impact_alignment.fully_or_mostly": 75,
    "trust_barriers.operational_pressures": 75,
    "trust_barriers.overburdened_staff": 68,
    "trust_barriers.workforce_capacity": 64,
    "trust_support_needs.leadership_behaviours": 64,
    "trust_support_needs.culture_and_people": 58,
    "trust_support_needs.shared_purpose": 53,
    "trust_enabler_priorities.health_inequalities": 64,
    "pc_approach_stage.embedded_impact": 5,
    "pc_approach_stage.underway": 17,
    "pc_approach_stage.just_started": 38,
    "pc_impact_alignment.fully_or_mostly": 25,
    "pc_barriers.shared_systems": 50,
    "pc_barriers.workforce_capacity": 44,
    "pc_barriers.operational_pressures": 43,
    "pc_support_needs.leadership_behaviours": 66,
    "pc_support_needs.quality_management_system": 60,
    "pc_support_needs.shared_purpose": 58,
    "pc_enabler_priorities.health_inequalities": 63,
    "trust_coverage": 45,
}
PUBLISHED_COUNTS = {"respondents": 129, "trusts_responding": 95}


@pytest.fixture(scope="module")
def wave_2023(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        rows = con.execute("select * from headline_indicators where wave_id = '2023'").df()
    return rows.set_index("indicator_id")


@pytest.mark.parametrize(("indicator_id", "published"), PUBLISHED_PERCENTAGES.items())
def test_published_percentage_is_reproduced(wave_2023, indicator_id, published):
    row = wave_2023.loc[indicator_id]
    assert not row["suppressed"]
    # Round half up, as a report does (no published figure sits on a half).
    assert int(row["pct"] + 0.5) == published


@pytest.mark.parametrize(("indicator_id", "published"), PUBLISHED_COUNTS.items())
def test_published_count_is_reproduced(wave_2023, indicator_id, published):
    assert wave_2023.loc[indicator_id, "numerator"] == published


def test_shares_rest_on_all_129_respondents_and_carry_wilson_intervals(wave_2023):
    shares = wave_2023[wave_2023["indicator_kind"] == "share"]
    assert (shares["base"] == 129).all()
    shown = shares.loc[list(k for k in PUBLISHED_PERCENTAGES if k != "trust_coverage")]
    assert ((shown["ci_low"] < shown["pct"]) & (shown["pct"] < shown["ci_high"])).all()
    # 97 of 129, Wilson 95%: 67.1% to 81.8% (by the formula; see test_statistics).
    alignment = wave_2023.loc["trust_impact_alignment.fully_or_mostly"]
    assert (alignment["numerator"], round(alignment["ci_low"], 1), round(alignment["ci_high"], 1)) == (97, 67.1, 81.8)


def test_coverage_is_against_the_waves_population(wave_2023):
    coverage = wave_2023.loc["trust_coverage"]
    assert (coverage["numerator"], coverage["base"]) == (95, 211)


def test_demo_prints_the_headline_and_trend_tables(demo_run):
    out = demo_run.output
    assert "SYNTHETIC" in out
    assert "Headline indicators, improvement-journey wave 2023" in out
    headline_line = next(line for line in out.splitlines() if "trust_barriers.operational_pressures" in line)
    assert "75%" in headline_line and "97 / 129" in headline_line
    assert "Trends, improvement-journey" in out
    for wave in ("2023", "2024", "2025"):
        assert f"improvement-journey/{wave}: ok" in out
