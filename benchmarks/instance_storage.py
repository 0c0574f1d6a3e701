"""What keeping Dagster's run history in PostgreSQL costs a refresh, against SQLite, in the same invocation.

`survey run` of the bundled board survey's three waves on a fresh home, once with the project's dagster.yaml
(SQLite under the home) and once with deploy/dagster-postgres.yaml (a database of its own on a throwaway local
PostgreSQL cluster), alternated, ``--repeats`` times each; prints the median seconds of each and their ratio
as JSON. The pipeline's work is the same in both: the difference is the instance's storage.

Run as ``python -m benchmarks.instance_storage [--repeats N]`` (needs PostgreSQL's initdb and pg_ctl).
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

from home.settings import PROJECT_ROOT
from tests import postgres
from tests.processes import SURVEY, land_sample_wave, survey_env

WAVES = ("2023", "2024", "2025")


def _refresh(env: dict) -> float:
    home = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    try:
        for wave in WAVES:
            land_sample_wave(home, wave)
        started = time.perf_counter()
        subprocess.run([SURVEY, "run", "--home", str(home)], env=env, check=True, capture_output=True, timeout=600)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(repeats: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    cluster = postgres.Cluster(root)
    base = {"SURVEY_SETTLE_SECONDS": "0", "SURVEY_BRIEF_PDF": "false"}
    times: dict[str, list[float]] = {"sqlite": [], "postgres": []}
    try:
        for _ in range(repeats):
            times["sqlite"].append(_refresh(survey_env(**base)))
            times["postgres"].append(_refresh(survey_env(
                **base, SURVEY_DAGSTER_YAML=str(PROJECT_ROOT / "deploy" / "dagster-postgres.yaml"),
                SURVEY_DAGSTER_POSTGRES_URL=postgres.new_database(cluster.url))))
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {"waves": len(WAVES), "repeats": repeats, "seconds": times, "median_seconds": medians,
            "postgres_over_sqlite": medians["postgres"] / medians["sqlite"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    print(json.dumps(main(parser.parse_args().repeats), indent=2))
