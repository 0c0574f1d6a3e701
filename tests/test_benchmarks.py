"""The benchmark suite keeps working: its baseline does what the pipeline does (the same long rows from
the same wave, computed independently), and a tiny run of the suite writes its table and JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from benchmarks.baseline import run_baseline
from benchmarks.run import Measurement, typical
from benchmarks.steps import DATA_PATH, OUTSIDE, PACK, PARTS, WAREHOUSE, parts
from benchmarks.wide_codebook import SURVEY_ID, wave_ids, write_wide_codebook
from home.settings import PROJECT_ROOT
from sample_data.generator import LANDING_DIR, write_large_wave_csv
from schemas.codebook_files import load_codebook
from tests.processes import run_survey

pytestmark = pytest.mark.processes


def test_the_baseline_and_the_pipeline_agree_on_a_wide_wave(tmp_path, trust_codes):
    home = tmp_path / "home"
    codebook_path = write_wide_codebook(home / "codebooks", waves=1)
    codebook = load_codebook(codebook_path)
    wave_id = wave_ids(1)[0]
    csv = write_large_wave_csv(codebook, wave_id, trust_codes, respondents=2_000, seed=4,
                               path=home / "landing" / SURVEY_ID / wave_id / "wave.csv", chunk=700)

    baseline = run_baseline(codebook_path, wave_id, csv, tmp_path / "baseline.duckdb")
    result = run_survey(home, "run")

    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(home / "warehouse" / "survey.duckdb"), read_only=True) as con:
        respondents = con.execute("select count(*) from respondents").fetchall()[0][0]
        long_rows = con.execute("select count(*) from responses").fetchall()[0][0]
    assert baseline["refused_cells"] == 0
    assert (baseline["respondents"], baseline["long_rows"]) == (respondents, long_rows) == (2_000, long_rows)
    # 40 single-choice questions, 10 of them required: at least 10 answers per respondent
    assert long_rows >= 10 * 2_000


def test_a_tiny_benchmark_run_reports_a_table_and_json(tmp_path):
    out = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--sizes", "500", "--skip-sample", "--skip-incremental",
         "--bundled-sizes", "300", "--small-size", "50", "--repeats", "1",
         "--cache", str(tmp_path / "cache"), "--work", str(tmp_path / "work"), "--json", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    written = json.loads(out.read_text())
    results = written["results"]
    assert [(r["scenario"], r["respondents"]) for r in results] == [
        ("wave", 500), ("wave: survey ingest", 500), ("small ingest (new wave into the sample's 3)", 50), ("bundled wave: survey run", 300),
        ("bundled wave: survey ingest", 300)]
    for result in results:
        assert result["ratio"] == pytest.approx(result["pipeline_s"] / result["baseline_s"])
        assert result["pipeline_peak_mb"] > 0 and result["baseline_peak_mb"] > 0
    [comparison] = written["ingest_vs_run"]
    assert comparison["ingest_over_run"] == pytest.approx(results[4]["pipeline_s"] / results[3]["pipeline_s"], abs=1e-3)
    assert "pipeline_s" in completed.stdout
    # Each scenario's wall time in its parts, read from the runs' own step records: the parts add up to it, and
    # every part the command ran took time (a ``survey ingest`` of a wave runs every step, as a ``survey run`` does).
    parts = written["parts"]
    assert [(p["scenario"], p["respondents"]) for p in parts] == [(r["scenario"], r["respondents"]) for r in results]
    for part, result in zip(parts, results):
        assert min(part[name] for name in PARTS) > 0, part
        assert part[f"{DATA_PATH} (× baseline)"] == pytest.approx(part[DATA_PATH] / result["baseline_s"])
    assert "Where the time went" in completed.stdout


def test_a_commands_time_is_split_into_its_parts_and_the_median_measurement_is_reported_with_its_steps():
    steps = {"wave_responses": 4.0, "headline_indicators": 0.5, "analyst_warehouse": 1.5, "leadership_pack": 2.0}
    assert parts(10.0, steps) == {DATA_PATH: 4.5, WAREHOUSE: 1.5, PACK: 2.0, OUTSIDE: 2.0}
    measured = [Measurement(12.0, 300.0, "", {"wave_responses": 9.0}), Measurement(10.0, 500.0, "", {"wave_responses": 7.0}),
                Measurement(11.0, 400.0, "", {"wave_responses": 8.5})]
    assert typical(measured) == Measurement(11.0, 500.0, "", {"wave_responses": 8.5})  # the 11 s one, the largest peak
    assert typical(measured[:2]).wall_s == 10.0  # of two, the lower: one that was measured


def _selections(dagster_home) -> list[tuple[list[str], list[str]]]:
    """Each run's assets and the asset checks it evaluated, oldest run first."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    checks = dg.DagsterEventType.ASSET_CHECK_EVALUATION
    return [
        (sorted(k.to_user_string() for k in run.asset_selection or ()),
         sorted(e.dagster_event.asset_check_evaluation_data.check_name for e in instance.all_logs(run.run_id, of_type=checks)))
        for run in reversed(instance.get_runs())
    ]


def test_the_fixed_cost_benchmark_makes_the_runs_a_sample_refresh_makes(tmp_path, demo_run):
    folders = {p.parent for p in LANDING_DIR.rglob("*.csv")}  # the bundled sample's waves, of both surveys
    per_survey = [sum(f.parent.name == s for f in folders) for s in sorted({f.parent.name for f in folders})]
    waves = sum(per_survey)
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.dagster_floor", str(tmp_path / "home"), *map(str, per_survey)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    stages = json.loads(completed.stdout.strip().splitlines()[-1])
    # Each survey's first run writes its dimensions too; its last publishes it (analysts' warehouse, trends, pack).
    assert per_survey == [3, 4] and stages["runs"] == waves
    assert stages["steps"] == sum(4 + 3 * (n - 1) + 3 for n in per_survey)
    assert min(stages["imports_s"], stages["instance_s"], stages["runs_s"]) > 0

    idle, real = _selections(tmp_path / "home" / "dagster"), _selections(demo_run.home / "dagster")
    assert len(real) == waves  # the bundled sample: one run a wave, the last one publishing
    assert idle == real
    assert "survey_dimensions" in real[0][0] and "survey_dimensions" not in real[1][0]
    assert "leadership_pack" in real[-1][0] and "leadership_pack" not in real[0][0]
