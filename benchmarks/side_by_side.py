"""Two surveys' waves refreshing side by side, against one after the other, in the same invocation.

Two surveys with the same questionnaire (the bundled board survey, and a copy of its codebook under another survey
id, so that both have the same work to do) each have a wave published; then each gets a new wave of
``--respondents`` respondents by `survey ingest`. One after the other: the first survey's ingest, then the second's.
Side by side: both ingests started at once, as two processes. Each on a fresh copy of the same home, alternated,
``--repeats`` times; prints the median wall seconds of each, their ratio, and how long the two loads (the
``wave_responses`` steps, from Dagster's event log) overlapped. On a machine of two cores, expect overlap rather
than a halving: the two processes share the cores. The combined analysts' warehouse is checked to hold both waves.

Run as ``python -m benchmarks.side_by_side [--respondents N] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

from sample_data.generator import write_large_wave_csv
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.reference import load_trusts
from tests.conftest import SURVEY_ID, sample_wave_path
from tests.processes import SURVEY, survey_env

OTHER = "board-copy"  # the second survey: the board survey's codebook under another id
WAVE = "2025"
ENV = survey_env(SURVEY_SETTLE_SECONDS="0", SURVEY_BRIEF_PDF="false")


def _template(root: Path) -> Path:
    """A home with the board survey and its copy, each with wave 2023 published."""
    home = root / "template"
    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text(encoding="utf-8"))
    raw["survey_id"] = OTHER
    (home / "codebooks").mkdir(parents=True)
    (home / "codebooks" / f"{OTHER}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    for survey_id in (SURVEY_ID, OTHER):
        target = home / "landing" / survey_id / "2023" / sample_wave_path("2023").name
        target.parent.mkdir(parents=True)
        shutil.copyfile(sample_wave_path("2023"), target)
    subprocess.run([SURVEY, "run", "--home", str(home)], env=ENV, check=True, capture_output=True, timeout=900)
    return home


def _ingest(home: Path, survey_id: str, wave: Path) -> subprocess.Popen:
    return subprocess.Popen([SURVEY, "ingest", str(wave), "--survey", survey_id, "--wave", WAVE, "--home", str(home)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen) -> None:
    output = process.communicate(timeout=1800)[0]
    if process.returncode != 0:
        raise RuntimeError(output[-2000:])


def _load_spans(home: Path) -> dict[str, tuple[float, float]]:
    import dagster as dg

    spans = {}
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        for survey_id in (SURVEY_ID, OTHER):
            [record] = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": f"{survey_id}/{WAVE}"}))
            [step] = [s for s in instance.get_run_step_stats(record.dagster_run.run_id) if s.step_key == "wave_responses"]
            spans[survey_id] = (step.start_time, step.end_time)
    return spans


def _refresh(template: Path, waves: dict[str, Path], side_by_side: bool) -> tuple[float, float]:
    """Wall seconds of both ingests, and the seconds their loads overlapped."""
    home = template.with_name(f"home-{'side' if side_by_side else 'sequential'}")
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home)
    started = time.perf_counter()
    if side_by_side:
        processes = [_ingest(home, s, w) for s, w in waves.items()]
        for process in processes:
            _finish(process)
    else:
        for survey_id, wave in waves.items():
            _finish(_ingest(home, survey_id, wave))
    seconds = time.perf_counter() - started
    with duckdb.connect(str(home / "warehouse" / "survey.duckdb"), read_only=True) as con:
        published = {tuple(r) for r in con.execute("SELECT DISTINCT survey_id, wave_id FROM respondents").fetchall()}
    assert {(s, WAVE) for s in waves} <= published, published
    (a_start, a_end), (b_start, b_end) = _load_spans(home).values()
    shutil.rmtree(home, ignore_errors=True)
    return seconds, max(0.0, min(a_end, b_end) - max(a_start, b_start))


def main(respondents: int, repeats: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-side-by-side-"))
    try:
        codebook = load_codebook(BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml")
        trusts = load_trusts()["ods_code"].tolist()
        waves = {survey_id: write_large_wave_csv(codebook, WAVE, trusts, respondents, seed,
                                                 root / "waves" / f"{survey_id}-{WAVE}.csv")
                 for seed, survey_id in enumerate((SURVEY_ID, OTHER), start=1)}
        template = _template(root)
        times: dict[str, list[float]] = {"one_after_the_other": [], "side_by_side": []}
        overlap: dict[str, list[float]] = {"one_after_the_other": [], "side_by_side": []}
        for _ in range(repeats):
            for name, side in (("one_after_the_other", False), ("side_by_side", True)):
                seconds, overlapped = _refresh(template, waves, side)
                times[name].append(seconds)
                overlap[name].append(overlapped)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {"respondents_per_wave": respondents, "repeats": repeats, "seconds": times, "median_seconds": medians,
            "side_by_side_over_one_after_the_other": medians["side_by_side"] / medians["one_after_the_other"],
            "loads_overlapped_seconds": overlap}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    print(json.dumps(main(arguments.respondents, arguments.repeats), indent=2))
