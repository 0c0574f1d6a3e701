"""Files still being copied into the landing folder are not read until they settle (home.settling), and
`survey run` says which; the sensor's side is in test_dagster."""

from __future__ import annotations

import os
import threading
import time

from typer.testing import CliRunner

from home.settling import unsettled
from pipelines.cli import app
from tests.conftest import SURVEY_ID, sample_wave_path


def test_a_file_settles_by_its_own_time_or_by_being_seen_unchanged(tmp_path):
    path = tmp_path / "wave.csv"
    path.write_text("respondent_id\n")
    written = path.stat().st_mtime
    seen: dict[str, list] = {}
    assert unsettled([path], 5, seen, now=written + 6) == []  # its own time: 6 s without a change
    seen.clear()
    assert unsettled([path], 5, seen, now=written + 2) == [path]  # 2 s ago, first look
    assert unsettled([path], 5, seen, now=written + 4) == [path]  # seen unchanged for 2 s only
    path.write_text("respondent_id\nR1\n")  # still being written
    os.utime(path, (written + 4, written + 4))
    assert unsettled([path], 5, seen, now=written + 7.5) == [path]  # changed: seen afresh
    # A clock ahead on the volume: the file's time says nothing, five seconds of looks do.
    os.utime(path, (written + 3600, written + 3600))
    seen.clear()
    assert unsettled([path], 5, seen, now=written + 10) == [path]
    assert unsettled([path], 5, seen, now=written + 14.9) == [path]
    assert unsettled([path], 5, seen, now=written + 15) == []


def test_survey_run_waits_for_a_file_being_copied_and_leaves_one_still_growing(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SETTLE_SECONDS", "1")
    home = tmp_path / "home"
    target = home / "landing" / SURVEY_ID / "2024" / "wave.csv"
    target.parent.mkdir(parents=True)
    lines = sample_wave_path("2024").read_bytes().splitlines(keepends=True)

    def copy_slowly():  # as a slow network copy does: a little at a time for three seconds
        with open(target, "wb") as handle:
            for chunk in range(15):
                handle.write(b"".join(lines[chunk * len(lines) // 15:(chunk + 1) * len(lines) // 15]))
                handle.flush()
                time.sleep(0.2)

    copying = threading.Thread(target=copy_slowly)
    copying.start()
    time.sleep(0.3)
    during = CliRunner().invoke(app, ["run", "--home", str(home)], terminal_width=200)
    copying.join()
    assert during.exit_code == 0, during.output
    assert (f"{SURVEY_ID}/2024: not read yet: wave.csv changed in the last 1 s (still being copied?); it is read "
            "once it stops changing") in during.output
    assert not (home / "working" / "improvement-journey" / "survey.duckdb").exists()  # nothing of it was read

    after = CliRunner().invoke(app, ["run", "--home", str(home)], terminal_width=200)  # at once: it waits 1 s
    assert after.exit_code == 0, after.output
    assert "not read yet" not in after.output and f"{SURVEY_ID}/2024: ok" in after.output
    assert target.read_bytes() == sample_wave_path("2024").read_bytes()
