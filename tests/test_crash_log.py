"""Unforeseen failures end in one line naming a private log file that holds the traceback."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from pipelines.crash_log import cause, crash_line


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - the exception is the test's subject
        return caught


def test_the_line_names_the_command_the_cause_and_the_log_holding_the_traceback(tmp_path):
    exc = _raised(OSError(28, "No space left on device", "/home/x/dagster/runs.db"))
    line = crash_line(exc, "ingest export.csv", tmp_path / "working")
    match = re.fullmatch(r"FAILED: ingest export\.csv: No space left on device: /home/x/dagster/runs\.db "
                         r"\(full traceback in (\S+)\)", line)
    assert match, line
    log = Path(match.group(1))
    assert log.parent == tmp_path / "working" / "logs"
    assert "Traceback (most recent call last)" in log.read_text() and (log.stat().st_mode & 0o777) == 0o600


def test_the_log_goes_to_the_temporary_folder_when_the_working_folder_cannot_be_written(tmp_path):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    line = crash_line(_raised(RuntimeError("first line\nsecond line")), "run", blocked)
    log = Path(re.search(r"full traceback in (\S+)\)$", line).group(1))
    assert log.parent == Path(tempfile.gettempdir()) and "second line" in log.read_text()
    assert line.startswith("FAILED: run: RuntimeError: first line (") and "second line" not in line
    log.unlink()


def test_an_operating_system_error_is_told_in_its_own_words():
    assert cause(PermissionError(13, "Permission denied", "/x/landing")) == "Permission denied: /x/landing"
    assert cause(KeyError("k")) == "KeyError: 'k'"
    assert cause(ValueError()) == "ValueError"


def test_a_step_failing_unforeseen_names_its_log_in_the_refresh(tmp_path):
    from home.settings import Settings, SurveyHome
    from pipelines.runner import run_landed_waves
    from tests.processes import land_sample_wave

    home = SurveyHome(tmp_path, Settings.defaults().model_copy(update={"home": tmp_path, "settle_seconds": 0}))
    land_sample_wave(tmp_path, "2023")
    home.staging_dir.parent.mkdir(parents=True, exist_ok=True)
    home.staging_dir.write_text("a file where the staging folder should be")  # a real fault, not a mock
    refresh = run_landed_waves(home, log_level="CRITICAL")
    failure = refresh.first_failure
    assert failure is not None and failure.failed_step == "wave_responses"
    match = re.search(r"^step wave_responses: (.+) \(full traceback in (\S+)\)$", failure.error)
    assert match, failure.error
    assert Path(match.group(2)).is_relative_to(tmp_path / "working" / "logs")
    assert "FileExistsError" in Path(match.group(2)).read_text() and "line " in Path(match.group(2)).read_text()
