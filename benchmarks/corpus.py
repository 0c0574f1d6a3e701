"""Every file of the bad-input corpus delivered with `survey ingest`, as an engineer would, each timed:
no command may run longer than 60 s, and each must end with one line saying how it went.

    .venv/bin/python -m benchmarks.corpus [--json benchmarks/results/corpus.json]

A home holding the bundled wave 2023 is made once (`survey run`); then each corpus file is delivered as
wave 2024 into a copy of that home, in its own process, timed from outside. The baseline, measured in the
same invocation, is `survey ingest` of the bundled wave 2024 itself, a delivery that is not faulty. The
last line of each command is kept: a refused or failed delivery's must begin ``REJECTED:`` or
``FAILED:``; a loaded one's is the command's summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from tabulate import tabulate

from home.settings import PROJECT_ROOT
from sample_data.generator import LANDING_DIR

SURVEY = str(Path(sys.executable).with_name("survey"))
SURVEY_ID = "improvement-journey"
CORPUS = PROJECT_ROOT / "tests" / "bad_inputs"
LIMIT_S = 60
HANG_GUARD_S = 600  # a command still running after this is killed and reported as a hang


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "SURVEY_HOME")}
    return {**env, "SURVEY_SETTLE_SECONDS": "0", "COLUMNS": "200"}


def _ingest(home: Path, file: Path) -> dict:
    started = time.perf_counter()
    try:
        done = subprocess.run([SURVEY, "ingest", str(file), "--survey", SURVEY_ID, "--wave", "2024", "--home", str(home)],
                              capture_output=True, text=True, env=_env(), timeout=HANG_GUARD_S)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        code, output = None, f"HUNG: still running after {HANG_GUARD_S} s"
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return {"seconds": round(time.perf_counter() - started, 2), "exit_code": code, "last_line": lines[-1] if lines else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    cases = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
    names = sorted(name for section in ("row_level", "wave_level", "file_level") for name in cases[section])
    with tempfile.TemporaryDirectory(prefix="survey-corpus-") as scratch:
        holding = Path(scratch) / "holding-2023"
        landed = holding / "landing" / SURVEY_ID / "2023"
        landed.mkdir(parents=True)
        shutil.copy2(LANDING_DIR / SURVEY_ID / "2023" / f"{SURVEY_ID}_2023_SYNTHETIC.csv", landed / "wave.csv")
        subprocess.run([SURVEY, "run", "--home", str(holding)], check=True, capture_output=True, env=_env())

        def delivered(file: Path) -> dict:
            home = Path(scratch) / "home"
            shutil.rmtree(home, ignore_errors=True)
            shutil.copytree(holding, home, symlinks=True)
            return _ingest(home, file)

        baseline = delivered(LANDING_DIR / SURVEY_ID / "2024" / f"{SURVEY_ID}_2024_SYNTHETIC.csv")
        results = {name: delivered(CORPUS / name) for name in names}
    for result in results.values():
        result["ratio"] = round(result["seconds"] / baseline["seconds"], 2)
        result["one_line_reason"] = result["exit_code"] == 0 or result["last_line"].startswith(("REJECTED:", "FAILED:"))
    slowest = max(results, key=lambda n: results[n]["seconds"])
    print(tabulate([[n, r["seconds"], r["ratio"], r["exit_code"], r["one_line_reason"], r["last_line"][:90]]
                    for n, r in results.items()],
                   headers=["case", "s", "× baseline", "exit", "one-line reason", "last line"]))
    print(f"\nbaseline (the bundled wave 2024, not faulty): {baseline['seconds']} s; slowest: {slowest}, "
          f"{results[slowest]['seconds']} s (limit {LIMIT_S} s); without a one-line reason: "
          f"{[n for n, r in results.items() if not r['one_line_reason']] or 'none'}")
    if args.json:
        args.json.write_text(json.dumps({
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "limit_s": LIMIT_S,
            "baseline": baseline, "cases": results}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
