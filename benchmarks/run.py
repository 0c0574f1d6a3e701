"""The benchmark suite: the whole pipeline against bare DuckDB, measured in the same invocation.

    .venv/bin/python -m benchmarks.run                      # 10k, 100k, 1M respondents, sample, incremental,
                                                            # the bundled questionnaire at 1M (run and ingest)
    .venv/bin/python -m benchmarks.run --sizes 10000 --skip-incremental --bundled-sizes
    .venv/bin/python -m benchmarks.run --sizes 10000000     # the 10M wave (about 10 GB of CSV; not committed)

Every measurement is a separate process, timed from outside (wall clock) with its peak resident memory
read from the operating system (``wait4``), so imports and start-up count as a user would feel them.
Each scenario reports its ratio to a baseline measured in the same invocation, because shared machines
are noisy and absolute times are not comparable between runs:

- ``wave``: ``survey run`` of one wave of N respondents × 50 questions (landing → validation → warehouse
  → indicators → trends → publication for analysts → leadership pack) against ``benchmarks.baseline``,
  and ``survey ingest`` of the same file from elsewhere (``wave: survey ingest``) against the same baseline;
- ``sample``: ``survey run`` of the three bundled waves from a cold process against importing dagster,
  pandera, duckdb and pandas; and, against the same imports, the fixed cost under it
  (``benchmarks.dagster_floor``: the same imports, a new instance and the same runs with idle steps);
- ``incremental``: one new wave into a warehouse of ten waves against the same wave into an empty one;
- ``bundled``: one wave of N respondents of the bundled questionnaire (single and multiple choice, free
  text, personal-data columns), loaded by ``survey run`` from the landing folder and by ``survey ingest``
  from a file elsewhere, each against ``benchmarks.baseline`` on the same file; the ingest's ratio to the
  run is reported too (``ingest_over_run``): ingest reads the file once, so it should cost only the copy;
- ``small ingest``: ``survey ingest`` of a new wave of ``--small-size`` (200) respondents into a home that
  already holds the three sample waves, against importing dagster, pandera, duckdb and pandas: what an
  engineer waits for when a small survey's wave arrives.

The sample and the incremental scenario are short (seconds), so load on the machine moves them most:
each is measured ``--repeats`` times (3), in turn with its baseline, and the median reported; so are the
run and the ingest of the bundled wave, whose ratio to each other is the one that matters.

Each scenario's wall time is also split into its parts (``benchmarks.steps``: the data path, the analysts'
warehouse, the pack, and what is outside the steps), read from the runs' own step records (of the median
measurement, whose time they add up to), so that a ratio over its target says which part is over. Results print as tables and are written as JSON (``--json``).
Generated waves are kept in ``--cache`` so that a second invocation does not regenerate them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tabulate import tabulate

from benchmarks.steps import PARTS, parts, run_ids, step_seconds
from benchmarks.wide_codebook import SURVEY_ID, wave_ids, write_wide_codebook
from home.settings import PROJECT_ROOT
from sample_data.generator import LANDING_DIR, sample_exports, sample_files, write_large_wave_csv
from schemas.codebook import Codebook
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.reference import load_trusts
from schemas.waves import Wave

PYTHON = sys.executable
SURVEY = str(Path(sys.executable).with_name("survey"))
IMPORTS = "import dagster, pandera, duckdb, pandas"


@dataclass
class Measurement:
    wall_s: float
    peak_mb: float
    output: str
    steps: dict[str, float] = field(default_factory=dict)  # of a survey command: each Dagster step's seconds


@dataclass
class Result:
    scenario: str
    respondents: int
    pipeline_s: float
    pipeline_peak_mb: float
    baseline: str
    baseline_s: float
    baseline_peak_mb: float
    ratio: float
    respondents_per_s: float
    repeats: int = 1  # measurements behind each time: the median of them (peak memory: the largest)


@dataclass
class Breakdown:
    """A scenario's wall time in its parts (``benchmarks.steps``), each in seconds and over the baseline's time."""

    scenario: str
    respondents: int
    seconds: dict[str, float]
    baseline_s: float

    def row(self) -> dict:
        over = {f"{part} (× baseline)": s / self.baseline_s for part, s in self.seconds.items()}
        return {"scenario": self.scenario, "respondents": self.respondents, **self.seconds, **over}


def measure(command: list[str], env: dict | None = None) -> Measurement:
    """Run ``command`` to completion; its wall time and the peak RSS the kernel recorded for it."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{text[-3000:]}")
    return Measurement(wall, usage.ru_maxrss / 1024, text)  # ru_maxrss is in KiB on Linux


def typical(measurements: list[Measurement]) -> Measurement:
    """The measurement of median wall time (the lower middle one of an even number: one that was measured, whose
    steps add up to it), with the largest peak memory among them."""
    median = sorted(measurements, key=lambda m: m.wall_s)[(len(measurements) - 1) // 2]
    return replace(median, peak_mb=max(m.peak_mb for m in measurements))


def survey_env() -> dict:
    # Not the tests' survey_env: importing the tests' modules sets their defaults in this process's environment (the
    # brief not printed, among them), and the pipeline must be measured as it runs.
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "SURVEY_HOME")}
    # The waves are written whole before a command starts: waiting for files still being copied in (5 s after a
    # file changes, by default) is not what is measured.
    return {**env, "SURVEY_MAX_FILE_MB": "100000", "SURVEY_SETTLE_SECONDS": "0"}


def wave_csv(cache: Path, codebook: Codebook, wave_id: str, respondents: int, seed: int) -> Path:
    path = cache / f"{codebook.survey_id}_{wave_id}_{respondents}_{seed}.csv"
    if not path.exists():
        started = time.perf_counter()
        trust_codes = load_trusts()["ods_code"].tolist()
        write_large_wave_csv(codebook, wave_id, trust_codes, respondents, seed, path)
        print(f"  generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s",
              flush=True)
    return path


def new_home(root: Path, name: str, waves: int) -> Path:
    home = root / name
    shutil.rmtree(home, ignore_errors=True)
    write_wide_codebook(home / "codebooks", waves)
    return home


def land(home: Path, wave_id: str, csv: Path, survey_id: str = SURVEY_ID) -> None:
    target = home / "landing" / survey_id / wave_id / csv.name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(csv, target)  # no copy of gigabytes; the pipeline only reads landed files
    except OSError:
        shutil.copy2(csv, target)


def survey_run(home: Path) -> Measurement:
    return measure([SURVEY, "run", "--home", str(home)], env=survey_env())


def bench_wave(root: Path, cache: Path, codebook: Codebook, codebook_path: Path,
               respondents: int) -> tuple[list[Result], list[Breakdown]]:
    """One wave of the wide codebook by `survey run` (landed) and by `survey ingest` (delivered from
    elsewhere), each against bare DuckDB on the same file."""
    wave_id = wave_ids(1)[0]
    csv = wave_csv(cache, codebook, wave_id, respondents, seed=1)
    baseline = measure([PYTHON, "-m", "benchmarks.baseline", str(codebook_path), wave_id, str(csv),
                        str(root / "baseline.duckdb")])
    (root / "baseline.duckdb").unlink(missing_ok=True)
    home = new_home(root, f"wave_{respondents}", waves=1)
    land(home, wave_id, csv)
    run = survey_run(home)
    run = replace(run, steps=step_seconds(home))
    home = new_home(root, f"wave_{respondents}", waves=1)
    ingest = measure([SURVEY, "ingest", str(csv), "--survey", SURVEY_ID, "--wave", wave_id, "--home", str(home)],
                     env=survey_env())
    ingest = replace(ingest, steps=step_seconds(home))
    shutil.rmtree(home, ignore_errors=True)
    measured = (("wave", run), ("wave: survey ingest", ingest))
    return ([Result(name, respondents, m.wall_s, m.peak_mb, "bare DuckDB", baseline.wall_s, baseline.peak_mb,
                    m.wall_s / baseline.wall_s, respondents / m.wall_s) for name, m in measured],
            [Breakdown(name, respondents, parts(m.wall_s, m.steps), baseline.wall_s) for name, m in measured])


def bench_sample(root: Path, repeats: int) -> tuple[list[Result], dict]:
    """The sample refresh and its fixed cost (``benchmarks.dagster_floor``), each against the four imports;
    the three measured in turn, ``repeats`` times, so that the machine's load falls on each alike."""
    home = root / "sample"
    folders = {p.parent for p in LANDING_DIR.rglob("*.csv")}
    waves = [str(sum(f.parent.name == s for f in folders)) for s in sorted({f.parent.name for f in folders})]
    imports, pipelines, floors, stages = [], [], [], []
    for _ in range(repeats):
        imports.append(measure([PYTHON, "-c", IMPORTS]))
        shutil.rmtree(home, ignore_errors=True)
        for source in sample_files():
            target = home / "landing" / source.relative_to(LANDING_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)  # its time kept: a file landed earlier, settled
        pipelines.append(survey_run(home))
        shutil.rmtree(home, ignore_errors=True)
        floors.append(measure([PYTHON, "-m", "benchmarks.dagster_floor", str(home), *waves], env=survey_env()))
        shutil.rmtree(home, ignore_errors=True)
        stages.append(json.loads(floors[-1].output.strip().splitlines()[-1]))
    imports, pipeline, floor = typical(imports), typical(pipelines), typical(floors)
    respondents = sum(sum(1 for _ in open(p, encoding="utf-8")) - 1 for p in sample_exports())
    stage_medians = {k: round(statistics.median(s[k] for s in stages), 2) for k in ("imports_s", "instance_s", "runs_s")}
    return [
        Result(f"sample ({sum(map(int, waves))} waves, cold)", respondents, pipeline.wall_s, pipeline.peak_mb, f"`{IMPORTS}`",
               imports.wall_s, imports.peak_mb, pipeline.wall_s / imports.wall_s, respondents / pipeline.wall_s,
               repeats),
        Result("sample's fixed cost (steps idle)", respondents, floor.wall_s, floor.peak_mb, f"`{IMPORTS}`",
               imports.wall_s, imports.peak_mb, floor.wall_s / imports.wall_s, respondents / floor.wall_s, repeats),
    ], {**stages[-1], **stage_medians, "pipeline_over_fixed_cost": round(pipeline.wall_s / floor.wall_s, 2)}


def bench_incremental(root: Path, cache: Path, codebook: Codebook, respondents: int, repeats: int) -> Result:
    """The 11th wave into a home of ten against the same wave into an empty home, measured in turn
    ``repeats`` times (the ten-wave home is copied before each addition and restored after)."""
    waves = wave_ids(11)
    csvs = {w: wave_csv(cache, codebook, w, respondents, seed=i + 1) for i, w in enumerate(waves)}
    home, ten = new_home(root, "eleven_waves", waves=11), root / "ten_waves"
    for wave_id in waves[:-1]:
        land(home, wave_id, csvs[wave_id])
    survey_run(home)  # the ten waves already there: set-up, not measured
    shutil.rmtree(ten, ignore_errors=True)
    shutil.copytree(home, ten, copy_function=shutil.copy2)
    singles, additions = [], []
    for _ in range(repeats):
        alone = new_home(root, "one_wave", waves=11)
        land(alone, waves[-1], csvs[waves[-1]])
        singles.append(survey_run(alone))
        shutil.rmtree(alone, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(ten, home, copy_function=shutil.copy2)  # modification times kept: the snapshot's record holds
        land(home, waves[-1], csvs[waves[-1]])
        additions.append(survey_run(home))
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(ten, ignore_errors=True)
    single, added = typical(singles), typical(additions)
    return Result("incremental (11th wave into 10)", respondents, added.wall_s, added.peak_mb,
                  "the same wave into an empty warehouse", single.wall_s, single.peak_mb,
                  added.wall_s / single.wall_s, respondents / added.wall_s, repeats)


BUNDLED_SURVEY, BUNDLED_WAVE = "improvement-journey", "2025"


def bench_bundled(root: Path, cache: Path, respondents: int,
                  repeats: int) -> tuple[list[Result], list[Breakdown], dict]:
    """A wave of the bundled questionnaire by `survey run` (landed) and by `survey ingest` (delivered from
    elsewhere, so it is copied in), each against bare DuckDB; all three measured in turn ``repeats`` times."""
    codebook_path = BUNDLED_CODEBOOKS_DIR / f"{BUNDLED_SURVEY}.yaml"
    csv = wave_csv(cache, load_codebook(codebook_path), BUNDLED_WAVE, respondents, seed=7)
    baselines, runs, ingests = [], [], []
    shutil.rmtree(root / "bundled_ingest", ignore_errors=True)  # an interrupted invocation's runs are not counted
    for _ in range(repeats):
        baselines.append(measure([PYTHON, "-m", "benchmarks.baseline", str(codebook_path), BUNDLED_WAVE, str(csv),
                                  str(root / "baseline.duckdb")]))
        (root / "baseline.duckdb").unlink(missing_ok=True)
        home = root / "bundled_run"
        shutil.rmtree(home, ignore_errors=True)
        land(home, BUNDLED_WAVE, csv, BUNDLED_SURVEY)
        runs.append(replace(survey_run(home), steps=step_seconds(home)))
        shutil.rmtree(home, ignore_errors=True)
        ingest = measure([SURVEY, "ingest", str(csv), "--survey", BUNDLED_SURVEY, "--wave", BUNDLED_WAVE,
                          "--home", str(root / "bundled_ingest")], env=survey_env())
        ingests.append(replace(ingest, steps=step_seconds(root / "bundled_ingest")))
        shutil.rmtree(root / "bundled_ingest", ignore_errors=True)
    baseline, run, ingest = typical(baselines), typical(runs), typical(ingests)
    results = [
        Result(f"bundled wave: {name}", respondents, m.wall_s, m.peak_mb, "bare DuckDB", baseline.wall_s,
               baseline.peak_mb, m.wall_s / baseline.wall_s, respondents / m.wall_s, repeats)
        for name, m in (("survey run", run), ("survey ingest", ingest))
    ]
    breakdowns = [Breakdown(f"bundled wave: {name}", respondents, parts(m.wall_s, m.steps), baseline.wall_s)
                  for name, m in (("survey run", run), ("survey ingest", ingest))]
    return results, breakdowns, {"respondents": respondents, "csv_mb": round(csv.stat().st_size / 1e6, 1),
                     "ingest_over_run": round(ingest.wall_s / run.wall_s, 3),
                     "ingest_peak_mb": round(ingest.peak_mb), "run_peak_mb": round(run.peak_mb)}


SMALL_WAVE = "2026"
SMALL_FIELDWORK = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))


def bench_small_ingest(root: Path, cache: Path, respondents: int, repeats: int) -> tuple[Result, Breakdown]:
    """A new small wave by `survey ingest` into a home holding the sample's three waves, against the four
    imports; both measured in turn ``repeats`` times (the home restored before each ingest)."""
    codebook = load_codebook(BUNDLED_CODEBOOKS_DIR / f"{BUNDLED_SURVEY}.yaml")
    # A new wave, 2026, declared by the ingest's dates as by the codebook here (its questions are asked
    # from 2025 on), so that its submission times fall in its fieldwork.
    declared = Wave(id=SMALL_WAVE, fieldwork_start=SMALL_FIELDWORK[0], fieldwork_end=SMALL_FIELDWORK[1])
    csv = wave_csv(cache, codebook.model_copy(update={"waves": (*codebook.waves, declared)}), SMALL_WAVE,
                   respondents, seed=11)
    three, home = root / "three_waves", root / "small_ingest"
    shutil.rmtree(three, ignore_errors=True)
    for source in sorted((LANDING_DIR / BUNDLED_SURVEY).rglob("*.csv")):  # the board survey's three, as issue 14 set it
        target = three / "landing" / source.relative_to(LANDING_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    survey_run(three)  # set-up, not measured
    imports, ingests = [], []
    for _ in range(repeats):
        imports.append(measure([PYTHON, "-c", IMPORTS]))
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(three, home, copy_function=shutil.copy2)
        set_up = run_ids(home)
        ingests.append(measure([SURVEY, "ingest", str(csv), "--survey", BUNDLED_SURVEY, "--wave", SMALL_WAVE,
                                "--fieldwork-start", SMALL_FIELDWORK[0].isoformat(),
                                "--fieldwork-end", SMALL_FIELDWORK[1].isoformat(),
                                "--home", str(home)], env=survey_env()))
        ingests[-1] = replace(ingests[-1], steps=step_seconds(home, earlier_runs=set_up))
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(three, ignore_errors=True)
    imported, ingest = typical(imports), typical(ingests)
    name = "small ingest (new wave into the sample's 3)"
    return (Result(name, respondents, ingest.wall_s, ingest.peak_mb, f"`{IMPORTS}`", imported.wall_s, imported.peak_mb,
                   ingest.wall_s / imported.wall_s, respondents / ingest.wall_s, repeats),
            Breakdown(name, respondents, parts(ingest.wall_s, ingest.steps), imported.wall_s))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--incremental-size", type=int, default=100_000)
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--small-size", type=int, default=200, help="respondents of the small ingest (0: skip)")
    parser.add_argument("--bundled-sizes", type=int, nargs="*", default=[1_000_000],
                        help="waves of the bundled questionnaire, by `survey run` and by `survey ingest`")
    parser.add_argument("--repeats", type=int, default=3,
                        help="times the sample and the incremental scenario are measured (median reported)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "survey-benchmark-waves")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "survey-benchmark-homes")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/latest.json"))
    args = parser.parse_args()

    args.cache.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    codebook_path = write_wide_codebook(args.work / "codebook", waves=11)
    codebook = load_codebook(codebook_path)
    results, breakdowns, sample_fixed_cost = [], [], None
    if not args.skip_sample:
        print("sample ...", flush=True)
        sample_results, sample_fixed_cost = bench_sample(args.work, args.repeats)
        results += sample_results
    for size in args.sizes:
        print(f"wave of {size:,} respondents ...", flush=True)
        wave_results, wave_breakdowns = bench_wave(args.work, args.cache, codebook, codebook_path, size)
        results += wave_results
        breakdowns += wave_breakdowns
    if not args.skip_incremental:
        print(f"incremental, waves of {args.incremental_size:,} ...", flush=True)
        results.append(bench_incremental(args.work, args.cache, codebook, args.incremental_size, args.repeats))
    if args.small_size:
        print(f"small ingest, {args.small_size:,} respondents ...", flush=True)
        small, small_breakdown = bench_small_ingest(args.work, args.cache, args.small_size, args.repeats)
        results.append(small)
        breakdowns.append(small_breakdown)
    ingest_vs_run = []
    for size in args.bundled_sizes:
        print(f"bundled questionnaire, {size:,} respondents: survey run and survey ingest ...", flush=True)
        bundled, bundled_breakdowns, comparison = bench_bundled(args.work, args.cache, size, args.repeats)
        results += bundled
        breakdowns += bundled_breakdowns
        ingest_vs_run.append(comparison)

    rows = [asdict(r) for r in results]
    print(tabulate(rows, headers="keys", floatfmt=".2f", intfmt=","))
    part_rows = [b.row() for b in breakdowns]
    print(f"\nWhere the time went (seconds, then over the baseline; {', '.join(PARTS)}):")
    print(tabulate(part_rows, headers="keys", floatfmt=".2f", intfmt=","))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": rows,
        "parts": part_rows,
        "sample_fixed_cost": sample_fixed_cost,
        "ingest_vs_run": ingest_vs_run,
    }, indent=1), encoding="utf-8")
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
