"""Each trust against trusts like it (``warehouse/benchmarks.py``): one trust's figures of the demo's staff pulse
worked out here from the delivered file and its population (weights, comparator group, the tests against the
rest of the country written out by hand), the board survey's empty table saying why, and waves loaded before
benchmarking benchmarked when the warehouse is next published."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from scipy.stats import t as student_t

from schemas.reference import load_trusts
from tests.staff_pulse_wave import ENGAGEMENT, POINTS, POSITIVE, weighted_wave

MIN_BASE = 11  # the staff pulse's codebook
# The staff pulse's codebook pools these types (reporting.pooled_groups): its comparator groups are as pooled.
POOLED_TYPES = {"Online / Digital": "Community and online trusts", "Community Trusts": "Community and online trusts"}


def _benchmarks(warehouse, where: str = "survey_id = 'staff-pulse' AND wave_id = '2026Q3'") -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"SELECT * FROM trust_benchmarks WHERE {where}").df()


def _respondent_values() -> pd.DataFrame:
    """Each respondent's weight, trust, trust type, and value of a share (eng_enthusiastic positive) and a mean
    (the engagement theme: the mean of their item scores, counted with at least 2 items answered)."""
    wave, _, _ = weighted_wave()
    types = load_trusts().set_index("ods_code")["type"].replace(POOLED_TYPES)
    scores = wave[ENGAGEMENT].apply(lambda column: column.map(POINTS))
    return wave.assign(
        trust_type=wave["trust_code"].map(types),
        share=np.where(wave["eng_enthusiastic"].isna(), np.nan, wave["eng_enthusiastic"].isin(POSITIVE).astype(float)),
        theme=scores.mean(axis=1).where(scores.notna().sum(axis=1) >= 2),
    )


def _weighted(frame: pd.DataFrame, column: str) -> tuple[float, float, float, int]:
    """Weighted value, effective base, s_w (n_eff / (n_eff − 1) corrected) and base of ``column`` over those with
    a value."""
    rows = frame[frame[column].notna()]
    w, x = rows["weight"], rows[column]
    mean = (w * x).sum() / w.sum()
    effective = w.sum() ** 2 / (w * w).sum()
    sd = np.sqrt((w * (x - mean) ** 2).sum() / w.sum() * effective / (effective - 1))
    return mean, effective, sd, len(rows)


def _expected(respondents: pd.DataFrame, trust: str, column: str) -> dict:
    own = respondents[respondents["trust_code"] == trust]
    rest = respondents[respondents["trust_code"] != trust]
    value, n1, s1, base = _weighted(own, column)
    rest_value, n2, s2, _ = _weighted(rest, column)
    group_type = own["trust_type"].iloc[0]
    qualifying = [v for code, members in respondents[respondents["trust_type"] == group_type].groupby("trust_code")
                  if (members[column].notna().sum() >= MIN_BASE) for v in [_weighted(members, column)[0]]]
    if column == "share":  # the unpooled z-test, each share with its own variance, a success and a failure added
        a, b = (value * n1 + 1) / (n1 + 2), (rest_value * n2 + 1) / (n2 + 2)  # (Agresti and Caffo)
        z = (a - b) / np.sqrt(a * (1 - a) / (n1 + 2) + b * (1 - b) / (n2 + 2))
        p_value = 2 * norm.sf(abs(z))
    else:  # Welch's t-test on the effective bases, Welch–Satterthwaite degrees of freedom
        v1, v2 = s1 ** 2 / n1, s2 ** 2 / n2
        freedom = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
        p_value = 2 * student_t.sf(abs(value - rest_value) / np.sqrt(v1 + v2), freedom)
    scale = 100 if column == "share" else 1
    return {"value": scale * value, "effective_base": n1, "base": base, "rest_value": scale * rest_value,
            "p_value": p_value, "group_trusts": len(qualifying), "group_lowest": scale * min(qualifying),
            "group_median": scale * float(np.median(qualifying)), "group_highest": scale * max(qualifying),
            "comparator_group": group_type}


@pytest.mark.parametrize(("indicator", "column"), [("eng_enthusiastic.positive", "share"), ("engagement.score", "theme")])
def test_a_trusts_figures_against_an_independent_computation(demo_run, indicator, column):
    respondents = _respondent_values()
    benchmarks = _benchmarks(demo_run.warehouse).set_index(["trust_code", "indicator_id"])
    largest = respondents.groupby("trust_code").size().idxmax()  # the trust with most respondents
    expected = _expected(respondents, largest, column)
    row = benchmarks.loc[(largest, indicator)]
    for name, value in expected.items():
        assert row[name] == (value if isinstance(value, str) else pytest.approx(value, rel=1e-9)), name
    significant = expected["p_value"] < 0.05
    assert row["compared"] == ("not significantly different" if not significant
                               else "above" if expected["value"] > expected["rest_value"] else "below")
    assert row["weighted"]


def test_every_trust_with_the_base_is_benchmarked_and_none_without(demo_run):
    respondents = _respondent_values()
    bases = respondents[respondents["share"].notna()].groupby("trust_code").size()
    benchmarked = set(_benchmarks(demo_run.warehouse).query("indicator_id == 'eng_enthusiastic.positive'")["trust_code"])
    assert benchmarked == set(bases[bases >= MIN_BASE].index) and len(benchmarked) >= 20


def test_some_trusts_differ_significantly_from_the_rest_of_the_country(demo_run):
    compared = _benchmarks(demo_run.warehouse)["compared"].value_counts()
    assert compared.get("above", 0) > 0 and compared.get("below", 0) > 0


def test_the_board_surveys_table_is_empty_and_says_why(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM trust_benchmarks WHERE survey_id = 'improvement-journey'").fetchall()
        notes = con.execute("SELECT wave_id, trusts_benchmarked, note FROM trust_benchmark_waves "
                            "WHERE survey_id = 'improvement-journey' ORDER BY wave_id").fetchall()
    assert rows == [(0,)]
    assert [wave for wave, *_ in notes] == ["2023", "2024", "2025"]
    for _, benchmarked, note in notes:
        assert benchmarked == 0
        assert note == ("No trust has 10 or more respondents answering any indicator, and no figure rests on fewer: "
                        "no trust is benchmarked.")


def test_a_trust_that_would_give_a_hidden_base_away_by_subtraction_is_left_out():
    """Worked by hand: region R has trusts A (30), B (12) and C (4, below the base of 10). Shown, A and B would
    leave 4 of R's 46: C's hidden base. B, the smaller, is left out (R less A is then 16). In region S, D (20) and
    E (15) are both shown: nothing is left. Nationally 81 less A, D and E leaves 16. A cell hidden by secondary
    suppression (S for another indicator) may not be all shown: E goes there."""
    from warehouse.benchmarks import withheld_by_subtraction

    bases = pd.DataFrame({"indicator_id": ["q"] * 5 + ["p"] * 2, "trust_code": ["A", "B", "C", "D", "E", "D", "E"],
                          "base": [30, 12, 4, 20, 15, 20, 15]})
    groups = pd.DataFrame({"trust_code": list("ABCDE") + list("ABCDE"),
                           "dimension": ["region"] * 5 + ["national"] * 5,
                           "category": ["R", "R", "R", "S", "S"] + ["England"] * 5})
    hidden = pd.DataFrame({"indicator_id": ["p"], "dimension": ["region"], "category": ["S"]})
    withheld = withheld_by_subtraction(bases, groups, hidden, min_base=10)
    assert sorted(map(tuple, withheld.to_numpy())) == [("p", "E"), ("q", "B")]


def test_no_published_base_less_the_trusts_shown_gives_a_hidden_base(demo_run):
    """In every staff pulse wave, for every indicator and every published group (England, each trust type and
    region as the breakdowns report them), the group's base less the bases of its trusts shown in
    trust_benchmarks is 0 or at least 11, never a hidden trust's few; and a cell hidden by secondary suppression
    is never the sum of trusts shown. 2025Q4 has such a case to avoid (a London trust of 9)."""
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        gaps = con.execute("""
            WITH shown AS (
                SELECT b.wave_id, b.indicator_id, g.dimension, g.category, sum(b.base) AS shown
                FROM trust_benchmarks AS b
                JOIN (SELECT ods_code AS trust_code, 'trust_type' AS dimension,
                             CASE WHEN trust_type IN ('Online / Digital', 'Community Trusts')
                                  THEN 'Community and online trusts' ELSE trust_type END AS category FROM trusts
                      UNION ALL
                      SELECT ods_code, 'region', CASE WHEN region IN ('National', 'London')
                                                      THEN 'London and national trusts' ELSE region END FROM trusts
                     ) AS g USING (trust_code)
                WHERE b.survey_id = 'staff-pulse' GROUP BY ALL
                UNION ALL
                SELECT wave_id, indicator_id, 'national', 'England', sum(base) FROM trust_benchmarks
                WHERE survey_id = 'staff-pulse' GROUP BY ALL
            ),
            published AS (
                SELECT wave_id, indicator_id, dimension, category, base, suppression FROM indicator_breakdowns
                WHERE survey_id = 'staff-pulse' AND dimension IN ('trust_type', 'region')
                UNION ALL
                SELECT wave_id, indicator_id, 'national', 'England', base, NULL FROM headline_indicators
                WHERE survey_id = 'staff-pulse' AND indicator_kind IN ('share', 'mean')
            )
            SELECT p.wave_id, p.indicator_id, p.dimension, p.category, p.base - s.shown AS gap, p.suppression
            FROM published AS p JOIN shown AS s USING (wave_id, indicator_id, dimension, category)
        """).df()
        left_out = con.execute("SELECT wave_id, figures_withheld FROM trust_benchmark_waves "
                               "WHERE survey_id = 'staff-pulse'").fetchall()
    visible = gaps[gaps["suppression"].isna()]
    assert len(visible) > 1000 and not visible["gap"].between(1, MIN_BASE - 1).any()
    assert not (gaps["suppression"].eq("secondary") & gaps["gap"].eq(0)).any()
    assert dict(left_out)["2025Q4"] > 0  # there was something to leave out


def test_waves_loaded_before_benchmarking_are_benchmarked_before_the_next_publication(demo_run, tmp_path):
    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
    from warehouse.benchmarks import benchmark_waves_loaded_before
    from warehouse.connection import WAVE_RESULT_TABLES, read_sql

    working = tmp_path / "survey.duckdb"
    shutil.copy2(demo_run.working_of("staff-pulse"), working)
    before = _benchmarks(demo_run.warehouse, "survey_id = 'staff-pulse'").sort_values(["survey_id", "wave_id", "trust_code", "indicator_id"],
                                                                  ignore_index=True)
    codebooks = {c.survey_id: c for c in (load_codebook(BUNDLED_CODEBOOKS_DIR / f"{s}.yaml")
                                          for s in ("improvement-journey", "staff-pulse"))}
    with duckdb.connect(str(working)) as con:
        # As a home of an earlier release holds them: no benchmarks at all, and no record of any.
        con.execute("DELETE FROM trust_benchmarks; DELETE FROM trust_benchmark_waves; DELETE FROM wave_results "
                    "WHERE result_table IN ('trust_benchmarks', 'trust_benchmark_waves')")
        assert con.execute(read_sql("stale_wave_results"), {"result_tables": list(WAVE_RESULT_TABLES)}).fetchall()
        done = benchmark_waves_loaded_before(con, codebooks)
        stale = con.execute(read_sql("stale_wave_results"), {"result_tables": list(WAVE_RESULT_TABLES)}).fetchall()
        after = con.execute("SELECT * FROM trust_benchmarks").df().sort_values(
            ["survey_id", "wave_id", "trust_code", "indicator_id"], ignore_index=True)
        again = benchmark_waves_loaded_before(con, codebooks)
    assert len(done) == 4 and stale == [] and again == []  # the staff pulse's four waves
    pd.testing.assert_frame_equal(after[before.columns], before, check_dtype=False)


def test_the_pack_has_a_printed_page_per_benchmarked_trust_and_a_sheet(demo_run):
    """The staff pulse's pack: one A4 page per trust with a headline figure benchmarked, naming the trust, with its
    figure of the headline theme; the board survey's: no pages, and a sheet saying why."""
    import openpyxl
    from pypdf import PdfReader

    from publish.pack import TRUST_PAGES_PDF, WORKBOOK

    pack = demo_run.home / "publish" / "staff-pulse" / "2026Q3"
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        trusts = con.execute("SELECT trust_name, value FROM trust_benchmarks WHERE wave_id = '2026Q3' "
                             "AND indicator_id = 'engagement.score' ORDER BY trust_name").fetchall()
    pages = PdfReader(pack / TRUST_PAGES_PDF).pages
    assert len(pages) == len(trusts) >= 20
    for page, (name, score) in zip(pages, trusts):
        text = " ".join(page.extract_text().split())
        assert f"{name}: your trust against similar trusts" in text and f"{score:.1f}" in text
        assert round(float(page.mediabox.width)) == 842 and round(float(page.mediabox.height)) == 595  # A4 landscape
    sheet = openpyxl.load_workbook(pack / WORKBOOK)["Similar trusts"]
    assert sum(1 for row in sheet.iter_rows(values_only=True) if row[-1] == "engagement.score") == len(trusts)

    board = demo_run.home / "publish" / "improvement-journey" / "2025"
    assert not (board / TRUST_PAGES_PDF).exists()
    lines = [row[0] for row in openpyxl.load_workbook(board / WORKBOOK)["Similar trusts"].iter_rows(values_only=True)]
    assert any(str(line).startswith("No trust has 10 or more respondents answering any indicator") for line in lines)


@pytest.mark.parametrize(("count", "base", "significant"), [(13, 13, True), (0, 12, False), (6, 12, False)])
def test_a_trust_where_everyone_answered_alike_is_not_judged_on_the_rests_variance_alone(count, base, significant):
    """13 of 13 against 300 of 400, 0 of 12 against 32 of 400: the plain unpooled test calls the second
    significant (the trust's own variance is 0); with a success and a failure added to each side (Agresti and
    Caffo, worked here) it is not, and the first stays significant."""
    from warehouse.statistics import unpooled_two_proportion_p_values

    rest_count = 300 if count else 32
    a, b = (count + 1) / (base + 2), (rest_count + 1) / 402
    expected = 2 * norm.sf(abs(a - b) / np.sqrt(a * (1 - a) / (base + 2) + b * (1 - b) / 402))
    [p_value] = unpooled_two_proportion_p_values([count], [base], [rest_count], [400])
    assert p_value == pytest.approx(expected, rel=1e-9) and (p_value < 0.05) == significant
    if count == 0:  # what the adjustment avoids: the plain unpooled test rests on the rest's variance alone
        rest = rest_count / 400
        assert 2 * norm.sf(rest / np.sqrt(rest * (1 - rest) / 400)) < 1e-6


def test_an_unweighted_surveys_trusts_are_benchmarked_from_its_counts_by_trust(demo_run, tmp_path):
    """The board survey with a minimum base of 2 (its trusts have 1 to 3 respondents): a trust's share and the rest
    of England's, from its counts by trust, are those of the delivered file, counted here."""
    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
    from tests.conftest import read_sample
    from warehouse.benchmarks import compute_trust_benchmarks
    from warehouse.connection import connect

    codebook = load_codebook(BUNDLED_CODEBOOKS_DIR / "improvement-journey.yaml")
    codebook = codebook.model_copy(update={"reporting": codebook.reporting.model_copy(update={"min_base": 2})})
    working = tmp_path / "survey.duckdb"
    shutil.copy2(demo_run.home / "working" / "improvement-journey" / "survey.duckdb", working)
    with connect(working) as con:
        figures, summary = compute_trust_benchmarks(con, codebook, "2023")
    label = next(o.label for o in codebook.question("trust_approach_stage").options if o.id == "implementing")
    wave = read_sample("2023")
    answered = wave[wave["trust_approach_stage"].notna()]
    chose = answered["trust_approach_stage"] == label
    row = figures.set_index(["trust_code", "indicator_id"]).loc[
        (answered.groupby("trust_code").size().idxmax(), "trust_approach_stage.implementing")]
    own = answered["trust_code"] == row.name[0]
    assert not row["weighted"] and row["base"] == own.sum() >= 2
    assert row["value"] == pytest.approx(100 * chose[own].mean(), rel=1e-12)
    assert row["rest_value"] == pytest.approx(100 * chose[~own].mean(), rel=1e-12)
    assert row["effective_base"] == pytest.approx(own.sum())  # every weight 1
    assert summary["trusts_benchmarked"].iloc[0] > 0
