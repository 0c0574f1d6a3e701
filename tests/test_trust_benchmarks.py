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


def _benchmarks(warehouse, where: str = "survey_id = 'staff-pulse' AND wave_id = '2026Q3'") -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"SELECT * FROM trust_benchmarks WHERE {where}").df()


def _respondent_values() -> pd.DataFrame:
    """Each respondent's weight, trust, trust type, and value of a share (eng_enthusiastic positive) and a mean
    (the engagement theme: the mean of their item scores, counted with at least 2 items answered)."""
    wave, _, _ = weighted_wave()
    types = load_trusts().set_index("ods_code")["type"]
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
    if column == "share":  # the unpooled z-test, each share with its own variance
        z = (value - rest_value) / np.sqrt(value * (1 - value) / n1 + rest_value * (1 - rest_value) / n2)
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
        notes = con.execute("SELECT wave_id, trusts_benchmarked, largest_trust_base, note FROM trust_benchmark_waves "
                            "WHERE survey_id = 'improvement-journey' ORDER BY wave_id").fetchall()
    assert rows == [(0,)]
    assert [wave for wave, *_ in notes] == ["2023", "2024", "2025"]
    for _, benchmarked, largest, note in notes:
        assert benchmarked == 0 and largest < 10
        assert note.startswith(f"No trust has 10 or more respondents answering any indicator (the most in one trust: {largest})")


def test_waves_loaded_before_benchmarking_are_benchmarked_before_the_next_publication(demo_run, tmp_path):
    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
    from warehouse.benchmarks import benchmark_waves_loaded_before
    from warehouse.connection import WAVE_RESULT_TABLES, read_sql

    working = tmp_path / "survey.duckdb"
    shutil.copy2(demo_run.home / "working" / "survey.duckdb", working)
    before = _benchmarks(demo_run.warehouse, "true").sort_values(["survey_id", "wave_id", "trust_code", "indicator_id"],
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
    assert len(done) == 7 and stale == [] and again == []
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
