"""Helpers for tests that run the pipeline as real, separate processes: the `survey` command, an analyst
querying the published warehouse, and checksums of what a warehouse file holds."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import SURVEY_ID, sample_wave_path

SURVEY = str(Path(sys.executable).with_name("survey"))
VOLATILE_COLUMNS = {"run_id", "published_at", "loaded_at", "archived_as"}  # differ between any two runs


def survey_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "SURVEY_HOME")}
    return {**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


def start_survey(home: Path, *args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    """`survey <args> --home <home>` as its own process, output captured as text."""
    return subprocess.Popen(
        [SURVEY, *args, "--home", str(home)], env=env or survey_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, **popen,
    )


def run_survey(home: Path, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SURVEY, *args, "--home", str(home)], env=env or survey_env(), capture_output=True, text=True, timeout=timeout
    )


def land_sample_wave(home: Path, wave_id: str) -> Path:
    source = sample_wave_path(wave_id)
    target = home / "landing" / SURVEY_ID / wave_id / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def wait_for_file(path: Path, process: subprocess.Popen, timeout: float = 180) -> None:
    """Wait until ``path`` exists; fail with the process's output if it ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"process ended (exit {process.returncode}) before {path.name}:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{path.name} did not appear within {timeout} s")
        time.sleep(0.05)


def table_rows(path: Path, ignore: set[str] = frozenset(), latest_loads_only: bool = False) -> dict[str, str]:
    """A digest of each table's rows (sorted, without the ``ignore`` columns), by table name.

    With ``latest_loads_only``, ``load_log`` holds only each wave's latest load: a run that loads a wave
    again (after an interrupted one) adds to its history.
    """
    digests = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        for table in tables:
            columns = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where table_name = ? order by column_index", [table]
            ).fetchall() if c not in ignore]
            select = ", ".join(f'"{c}"' for c in columns)
            source = f'"{table}"'
            if latest_loads_only and table == "load_log":
                source = "(from load_log qualify loaded_at = max(loaded_at) over (partition by survey_id, wave_id))"
            rows = con.execute(f"select {select} from {source} order by all").fetchall()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def working_reconciles(working: Path) -> list[str]:
    """Problems in the working database: waves whose stored rows differ from their latest load's log (a
    wave's quarantine is its latest load's: the rows of a load killed before it committed stay in the private
    file, tagged with their run, until the next load removes them)."""
    with duckdb.connect(str(working)) as con:  # a writing open, as the next run makes: replays the WAL
        con.execute("ATTACH ? AS private (READ_ONLY)", [str(working.with_name("private.duckdb"))])
        rows = con.execute(
            """
            with latest as (
                select survey_id, wave_id, arg_max(run_id, loaded_at) as run_id from load_log group by all
            ), logged as (
                select survey_id, wave_id, run_id, sum(rows_loaded) as loaded, sum(rows_quarantined) as quarantined
                from load_log join latest using (survey_id, wave_id, run_id) group by all
            )
            select l.survey_id, l.wave_id, l.loaded, l.quarantined,
                   (select count(*) from respondents r where r.survey_id = l.survey_id and r.wave_id = l.wave_id),
                   (select count(distinct (source_file, source_row)) from private.quarantine q
                     where q.survey_id = l.survey_id and q.wave_id = l.wave_id and q.run_id = l.run_id)
            from logged l
            """
        ).fetchall()
        orphans = con.execute(
            "select count(*) from responses anti join respondents using (survey_id, wave_id, respondent_id)"
        ).fetchall()[0][0]
    problems = [f"{s}/{w}: log {lo}+{q}, stored {r}+{qs}" for s, w, lo, q, r, qs in rows if (lo, q) != (r, qs)]
    return problems + ([f"{orphans} responses without a respondent"] if orphans else [])
