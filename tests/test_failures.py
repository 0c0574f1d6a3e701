"""Failures nobody worded a refusal for, met as real processes on real file systems: a landing folder
mounted read-only, and a disk that fills while Dagster writes its run storage. Each command ends with one
``FAILED:`` line naming the command, its file and the cause, the traceback goes to the log file the line
names, and nothing delivered or loaded before is moved or changed.

The file systems are real mounts (a read-only bind mount, a small tmpfs), so these tests need to be
allowed to mount (root, as in CI); elsewhere they are skipped, saying why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import SURVEY_ID, sample_wave_path
from tests.processes import file_sha256, land_sample_wave, run_survey, survey_env, table_rows

pytestmark = pytest.mark.processes
FAILED_LINE = re.compile(r"^FAILED: (?P<command>[^:]+): (?P<cause>.+) \(full traceback in (?P<log>\S+)\)$")


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def can_mount(tmp_path_factory):
    probe = tmp_path_factory.mktemp("probe")
    try:
        _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe))
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"mounting a file system is not allowed here: {getattr(exc, 'stderr', exc)}")
    subprocess.run(["umount", str(probe)], check=True)


@contextmanager
def _mounted(*args: str, at: Path):
    _mount(*args, str(at))
    try:
        yield at
    finally:
        subprocess.run(["umount", "-l", str(at)], check=False)


def _home_with_2023(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    land_sample_wave(home, "2023")
    done = run_survey(home, "run", env=survey_env(SURVEY_SETTLE_SECONDS="0"))
    assert done.returncode == 0, done.stdout + done.stderr
    return home


def _last_line(result: subprocess.CompletedProcess) -> re.Match:
    lines = (result.stdout + result.stderr).strip().splitlines()
    match = FAILED_LINE.match(lines[-1]) if lines else None
    assert match, f"the last line is not one FAILED line naming a log file:\n{result.stdout}{result.stderr}"
    return match


def test_an_ingest_into_a_read_only_landing_folder_fails_in_one_line_and_moves_nothing(tmp_path, can_mount):
    home = _home_with_2023(tmp_path)
    landing = home / "landing"
    before = {p.relative_to(landing): file_sha256(p) for p in landing.rglob("*") if p.is_file()}
    working_before = table_rows(home / "working" / "improvement-journey" / "survey.duckdb")
    delivered = shutil.copyfile(sample_wave_path("2024"), tmp_path / "board_survey_2024.csv")
    with _mounted("--bind", "-o", "ro", str(landing), at=landing):
        result = run_survey(home, "ingest", str(delivered), "--survey", SURVEY_ID, "--wave", "2024",
                            env=survey_env(SURVEY_SETTLE_SECONDS="0"))
    assert result.returncode == 1
    line = _last_line(result)
    assert line["command"] == "ingest board_survey_2024.csv"
    assert line["cause"].startswith("Read-only file system: ") and str(landing) in line["cause"]
    log = Path(line["log"])
    assert log.is_relative_to(home / "working") and "Traceback (most recent call last)" in log.read_text()
    assert "Traceback" not in result.stdout + result.stderr
    assert {p.relative_to(landing): file_sha256(p) for p in landing.rglob("*") if p.is_file()} == before
    assert table_rows(home / "working" / "improvement-journey" / "survey.duckdb") == working_before
    assert delivered.exists()  # the delivered file is where it was


def test_a_disk_filling_under_the_dagster_storage_fails_in_one_line_and_changes_nothing_loaded(tmp_path, can_mount):
    home = _home_with_2023(tmp_path)
    working_before = table_rows(home / "working" / "improvement-journey" / "survey.duckdb")
    published_before = file_sha256(home / "warehouse" / "survey.duckdb")
    storage = home / "dagster"
    kept = shutil.copytree(storage, tmp_path / "dagster-kept")
    shutil.rmtree(storage)
    storage.mkdir()
    with _mounted("-t", "tmpfs", "-o", "size=8m", "tmpfs", at=storage):
        shutil.copytree(kept, storage, dirs_exist_ok=True)
        free = shutil.disk_usage(storage).free
        with open(storage / "filler", "wb") as filler:  # all but 40 KB: full at the run's first events
            filler.write(b"\0" * (free - 40 * 1024))
        result = run_survey(home, "run", "--force", env=survey_env(SURVEY_SETTLE_SECONDS="0"))
    assert result.returncode == 1
    line = _last_line(result)
    assert line["command"] == "run" and "disk is full" in line["cause"]
    assert "Traceback (most recent call last)" in Path(line["log"]).read_text()
    assert "Traceback" not in result.stdout + result.stderr
    assert table_rows(home / "working" / "improvement-journey" / "survey.duckdb") == working_before
    assert file_sha256(home / "warehouse" / "survey.duckdb") == published_before
