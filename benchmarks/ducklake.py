"""The DuckLake prototype against the DuckDB file, on the same wave, in the same invocation.

A home with one generated wave of the board survey (``--respondents``) is refreshed once; then, ``--repeats`` times,
alternated: publishing the survey as the DuckDB file is published (the working file copied into the survey's snapshot,
then the analysts' warehouse combined from it: ``publish_snapshot`` and ``combine_snapshots``), and publishing the same
snapshot into the DuckLake (``publish_to_ducklake``, catalog in a throwaway local PostgreSQL, Parquet on local disk:
the first time creates the tables; later times publish three times: the wave as if loaded again (its load log given
another run, so its rows are deleted and written again), then the same snapshot again (no wave loaded since: the
tables filled by wave left as they are), then every table written whole, as every publication did before); then an analyst's query (answers to one question by
trust) on each, the DuckDB file by the project's DuckDB, the lake by the side environment's DuckDB 1.5.5. Prints the
median seconds of each and the sizes on disk as JSON.

Run as ``python -m benchmarks.ducklake [--respondents N] [--repeats N]`` (needs `make ducklake` and PostgreSQL).
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
from urllib.parse import urlsplit

import duckdb

from home.settings import PROJECT_ROOT
from sample_data.generator import write_large_wave_csv
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.reference import load_trusts
from tests import postgres
from tests.conftest import SURVEY_ID
from tests.processes import SURVEY, survey_env
from warehouse.combined_publication import combine_snapshots
from warehouse.connection import connect
from warehouse.ducklake_publication import WRITER, publish_to_ducklake
from warehouse.publication import publish_snapshot

SIDE_PYTHON = PROJECT_ROOT / ".venv-ducklake" / "bin" / "python"
WAVE = "2025"
QUERY = ("SELECT r.trust_code, a.option_id, count(*) FROM {responses} AS a JOIN {respondents} AS r "
         "USING (survey_id, wave_id, respondent_id) WHERE a.question_id = 'trust_approach_stage' GROUP BY ALL")
LAKE_QUERY = r"""
import sys, time
from pathlib import Path
writer, catalog, data, query = sys.argv[1:5]
sys.path.insert(0, writer)
from ducklake_writer import attach_lake, connect
con = connect()
attach_lake(con, catalog, Path(data), read_only=True)
started = time.perf_counter()
con.execute(query).fetchall()
print(time.perf_counter() - started)
"""


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main(respondents: int, repeats: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-ducklake-"))
    pg_root = Path(tempfile.mkdtemp(prefix="bench-pg-"))  # a folder of its own, which the postgres user may enter
    cluster = postgres.Cluster(pg_root)
    try:
        home = root / "home"
        codebook = load_codebook(BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml")
        write_large_wave_csv(codebook, WAVE, load_trusts()["ods_code"].tolist(), respondents, 7,
                             home / "landing" / SURVEY_ID / WAVE / "wave.csv")
        subprocess.run([SURVEY, "run", "--home", str(home)], env=survey_env(SURVEY_SETTLE_SECONDS="0",
                       SURVEY_BRIEF_PDF="false"), check=True, capture_output=True, timeout=3600)
        url = urlsplit(postgres.new_database(cluster.url).replace("postgresql+psycopg2://", "postgresql://", 1))
        catalog = f"postgres:dbname={url.path.lstrip('/')} host={url.hostname} port={url.port} user={url.username}"
        lake_data = root / "lake"
        working = root / "working.duckdb"
        snapshot, combined = root / "surveys" / f"{SURVEY_ID}.duckdb", root / "survey.duckdb"
        times: dict[str, list[float]] = {"duckdb_publish": [], "ducklake_first_publish": [],
                                         "ducklake_again_wave_loaded_again": [], "ducklake_again_unchanged": [],
                                         "ducklake_again_every_table_whole": [],
                                         "duckdb_query": [], "ducklake_query": []}
        for number in range(repeats):
            shutil.copyfile(home / "working" / SURVEY_ID / "survey.duckdb", working)
            shutil.copyfile(home / "working" / SURVEY_ID / "private.duckdb", root / "private.duckdb")
            if number > 0:  # the wave as if loaded again: its latest load, and what its results were computed from,
                with connect(working) as con:  # another run
                    for table, column in (("load_log", "run_id"), ("wave_results", "load_run_id")):
                        con.execute(f"UPDATE {table} SET {column} = ? WHERE wave_id = ?",
                                    [f"bench-reload-{number}", WAVE])
            started = time.perf_counter()
            with connect(working) as con:
                publish_snapshot(con, snapshot, f"bench-{number}", "benchmark", [codebook])
            combine_snapshots([snapshot], combined, [codebook], f"bench-{number}", 1024)
            times["duckdb_publish"].append(time.perf_counter() - started)
            lake = publish_to_ducklake(snapshot, SURVEY_ID, SIDE_PYTHON, catalog, lake_data)
            first = "ducklake_first_publish" if number == 0 else "ducklake_again_wave_loaded_again"
            times[first].append(lake["seconds"])
            if number > 0:
                lake = publish_to_ducklake(snapshot, SURVEY_ID, SIDE_PYTHON, catalog, lake_data)  # nothing loaded since
                times["ducklake_again_unchanged"].append(lake["seconds"])
                # As every publication did before waves were written one by one: every table deleted and inserted.
                lake = publish_to_ducklake(snapshot, SURVEY_ID, SIDE_PYTHON, catalog, lake_data, by_wave=())
                times["ducklake_again_every_table_whole"].append(lake["seconds"])
            with duckdb.connect(str(combined), read_only=True) as con:
                started = time.perf_counter()
                con.execute(QUERY.format(responses="responses", respondents="respondents")).fetchall()
                times["duckdb_query"].append(time.perf_counter() - started)
            schema = f'lake."{SURVEY_ID}"'
            done = subprocess.run([str(SIDE_PYTHON), "-c", LAKE_QUERY, str(WRITER.parent), catalog, str(lake_data), QUERY.format(
                responses=f"{schema}.responses", respondents=f"{schema}.respondents")],
                capture_output=True, text=True, check=True, timeout=600)
            times["ducklake_query"].append(float(done.stdout.strip()))
        sizes = {"duckdb_file_mb": round(_size(combined) / 1e6, 1), "ducklake_parquet_mb": round(_size(lake_data) / 1e6, 1)}
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(pg_root, ignore_errors=True)
    medians = {k: round(statistics.median(v), 3) for k, v in times.items() if v}
    return {"respondents": respondents, "repeats": repeats, "seconds": times, "median_seconds": medians, **sizes}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    print(json.dumps(main(arguments.respondents, arguments.repeats), indent=2))
