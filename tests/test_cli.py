"""The `survey` command as an engineer uses it, and the instance settings it applies."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from assets.constants import SURVEY_TAG
from exports import sha256_of
from home.settings import SurveyHome
from pipelines.cli import app
from pipelines.instance import instance_for
from tests.conftest import SURVEY_ID, read_sample, sample_wave_path, write_csv
from tests.processes import run_survey

PROJECT_CORPUS = Path(__file__).parent / "bad_inputs"


def test_run_reports_a_rejected_wave_loads_the_others_and_exits_non_zero(tmp_path):
    landing = tmp_path / "landing" / SURVEY_ID
    (landing / "2023").mkdir(parents=True)
    shutil.copyfile(sample_wave_path("2023"), landing / "2023" / "wave.csv")
    write_csv(read_sample("2024").drop(columns=["role"]), landing / "2024" / "export.csv")

    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path)], terminal_width=200)

    assert result.exit_code == 1
    assert f"{SURVEY_ID}/2023: ok" in result.output
    failure = next(line for line in result.output.splitlines() if line.startswith(f"{SURVEY_ID}/2024"))
    assert "FAILED" in failure and "export.csv" in failure and "role" in failure
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        waves = con.execute("select distinct wave_id from respondents order by 1").fetchall()
    assert waves == [("2023",)]


def test_run_publishes_in_the_last_waves_run_and_reports_a_failed_publication_apart(tmp_path):
    landing = tmp_path / "landing" / SURVEY_ID
    for wave_id in ("2023", "2024"):
        (landing / wave_id).mkdir(parents=True)
        shutil.copyfile(sample_wave_path(wave_id), landing / wave_id / "wave.csv")
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "warehouse" / "survey.duckdb").mkdir()  # a folder where the analysts' file should go

    failed = CliRunner().invoke(app, ["run", "--home", str(tmp_path)], terminal_width=200)

    lines = failed.output.splitlines()
    assert failed.exit_code == 1
    assert [line.split(" (run")[0] for line in lines if line.startswith(f"{SURVEY_ID}/")] == [
        f"{SURVEY_ID}/2023: ok", f"{SURVEY_ID}/2024: ok"]
    publication = next(line for line in lines if line.startswith(f"{SURVEY_ID}: trends"))
    assert "FAILED" in publication and "analyst_warehouse" in publication
    with instance_for(SurveyHome(tmp_path)) as instance:
        runs = instance.get_runs()
    assert len(runs) == 2  # one per wave; the last also ran the steps across waves
    assert publication.endswith(f"(run {runs[0].run_id[:8]})")

    (tmp_path / "warehouse" / "survey.duckdb").rmdir()
    again = CliRunner().invoke(app, ["run", "--home", str(tmp_path)], terminal_width=200)
    assert again.exit_code == 0, again.output
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        assert con.execute("select distinct wave_id from respondents order by 1").fetchall() == [("2023",), ("2024",)]


def test_a_run_adding_a_wave_publishes_every_wave_without_rebuilding_the_working_database(tmp_path):
    """Adding a wave deletes nothing: the working file is copied for analysts as it is, never rebuilt."""
    landing = tmp_path / "landing" / SURVEY_ID
    (landing / "2023").mkdir(parents=True)
    shutil.copyfile(sample_wave_path("2023"), landing / "2023" / "wave.csv")
    assert CliRunner().invoke(app, ["run", "--home", str(tmp_path)]).exit_code == 0
    working = tmp_path / "working" / "improvement-journey" / "survey.duckdb"
    inode = working.stat().st_ino
    (landing / "2024").mkdir()
    shutil.copyfile(sample_wave_path("2024"), landing / "2024" / "wave.csv")

    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path)], terminal_width=200)

    assert result.exit_code == 0, result.output
    assert working.stat().st_ino == inode
    with instance_for(SurveyHome(tmp_path)) as instance:
        published = instance.get_latest_materialization_event(dg.AssetKey("analyst_warehouse"))
    assert published.asset_materialization.metadata["dagster/row_count"].value > 0
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        assert con.execute("select wave_id, count(*) from respondents group by 1 order by 1").fetchall() == [
            ("2023", len(read_sample("2023"))), ("2024", len(read_sample("2024")))]  # every bundled row is valid


def test_run_on_an_empty_home_says_where_to_put_files(tmp_path):
    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path)])
    assert result.exit_code == 0
    assert "No wave in" in result.output and str(tmp_path / "landing") in result.output


def test_the_home_instance_uses_the_projects_dagster_yaml(tmp_path):
    instance = instance_for(SurveyHome(tmp_path))
    assert (tmp_path / "dagster" / "dagster.yaml").is_file()
    assert instance.root_directory == str(tmp_path / "dagster")
    # One run per survey out of the queue at a time: two surveys side by side, one survey's runs in turn.
    assert instance.get_concurrency_config().run_queue_config.tag_concurrency_limits == [
        {"key": SURVEY_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    assert not instance.telemetry_enabled
    assert isinstance(instance, dg.DagsterInstance)


def _ingest(home, path, wave="2024", *extra):
    return CliRunner().invoke(app, ["ingest", str(path), "--survey", SURVEY_ID, "--wave", wave,
                                    "--home", str(home), *extra], terminal_width=200)


def test_ingest_refuses_a_named_pipe_at_once_rather_than_wait_for_it(tmp_path):
    """A FIFO named like an export blocked `survey ingest` for ever: nothing ever writes to it."""
    pipe = tmp_path / "wave.csv"
    os.mkfifo(pipe)
    home = tmp_path / "home"
    refused = run_survey(home, "ingest", str(pipe), "--survey", SURVEY_ID, "--wave", "2024", timeout=60)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.strip().splitlines()[-1] == (
        "REJECTED: wave.csv: not a regular file but a named pipe (FIFO): save the export as a file and deliver that")
    assert not (home / "landing" / SURVEY_ID / "2024").exists() or not any((home / "landing" / SURVEY_ID / "2024").iterdir())


def test_ingest_refuses_a_mostly_quarantined_file_unless_told_to_accept_it(tmp_path):
    mostly = tmp_path / "mostly.csv"
    shutil.copyfile(PROJECT_CORPUS / "mostly_quarantined.csv", mostly)  # 20 of 30 rows with an unknown trust
    home = tmp_path / "home"
    refused = _ingest(home, mostly)
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1].startswith(
        "REJECTED: step wave_responses: Wave 2024 refused, nothing of it loaded: 67% of its 30 rows would be quarantined, over the "
        "limit of 50% (by rule: known_trust_code 67%).")
    assert not (home / "landing" / SURVEY_ID / "2024").exists() or not list((home / "landing" / SURVEY_ID / "2024").glob("*.csv"))
    accepted = _ingest(home, mostly, "2024", "--max-quarantined-share", "0.7")
    assert accepted.exit_code == 0, accepted.output
    assert "30 rows read, 10 loaded, 20 quarantined" in accepted.output
    assert "max_quarantined_share: 0.7" in (home / "landing" / SURVEY_ID / "2024" / "wave.yaml").read_text()


def test_ingest_loads_recognises_redelivery_replaces_and_refuses(tmp_path):
    home = tmp_path / "home"
    first = _ingest(home, sample_wave_path("2024"))
    assert first.exit_code == 0, first.output
    assert "layout plain_csv, UTF-8; 142 rows read, 142 loaded, 0 quarantined" in first.output

    copy = tmp_path / "same-bytes-new-name.csv"
    shutil.copyfile(sample_wave_path("2024"), copy)
    again = _ingest(home, copy)
    assert again.exit_code == 0 and "nothing new to load" in again.output

    corrected_rows = read_sample("2024")
    corrected_rows.loc[3, "role"] = "Boss"
    corrected = write_csv(corrected_rows, tmp_path / "corrected.csv")
    fixed = _ingest(home, corrected)
    assert fixed.exit_code == 0, fixed.output
    assert "142 rows read, 141 loaded, 1 quarantined" in fixed.output
    assert f"Replaced {sample_wave_path('2024').name} (kept in archive/{SURVEY_ID}/2024/replaced-" in fixed.output
    assert "quarantined for allowed_option_label: 1 rows" in fixed.output
    assert "(table quarantine, run_id '" in fixed.output and "Quarantined rows, with their values" not in first.output
    landed = sorted(p.name for p in (home / "landing" / SURVEY_ID / "2024").iterdir())
    assert landed == ["corrected.csv"]
    replaced = list((home / "archive" / SURVEY_ID / "2024").glob("replaced-*/*.csv"))
    assert [p.name for p in replaced] == [sample_wave_path("2024").name]

    broken = write_csv(read_sample("2024").drop(columns=["role"]), tmp_path / "broken.csv")
    refused = _ingest(home, broken)
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1].startswith("REJECTED: ")
    assert "broken.csv" in refused.output and "role" in refused.output
    assert sorted(p.name for p in (home / "landing" / SURVEY_ID / "2024").iterdir()) == ["corrected.csv"]

    with duckdb.connect(str(home / "warehouse" / "survey.duckdb"), read_only=True) as con:
        log = con.execute("select source_file, sha256, archived_as from load_log order by loaded_at").fetchall()
        assert con.execute("select count(*) from respondents").fetchone()[0] == 141
    # every load is traceable to the exact bytes it read, kept in the archive
    assert [name for name, _, _ in log] == [sample_wave_path("2024").name, "corrected.csv"]
    for _, sha, archived in log:
        assert sha256_of(home / archived) == sha  # named inside the home


def test_ingest_names_an_undeclared_wave(tmp_path):
    result = _ingest(tmp_path, sample_wave_path("2024"), "2031")
    assert result.exit_code == 1 and "wave '2031' is not declared" in result.output


def _on_a_terminal(command: list[str], env: dict) -> str:
    """Run ``command`` with a pseudo-terminal as its stdin, stdout and stderr; what it wrote there."""
    import os
    import pty
    import subprocess

    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the command ended and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=300) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.processes
def test_long_commands_show_each_stage_with_rows_on_a_terminal_and_nothing_extra_elsewhere(tmp_path):
    from tests.processes import SURVEY, run_survey, survey_env

    rows = len(read_sample("2024"))
    shown = _on_a_terminal([SURVEY, "ingest", str(sample_wave_path("2024")), "--survey", SURVEY_ID, "--wave", "2024",
                            "--home", str(tmp_path / "tty")], survey_env())
    for stage in ("reading", f"validating, {rows} rows", f"loading, {rows} rows", "indicators", "publishing"):
        assert f"{SURVEY_ID}/2024: {stage}" in shown or f"{SURVEY_ID}: {stage}" in shown, stage
    # `survey run` too
    staged_home = tmp_path / "staged"
    (staged_home / "landing" / SURVEY_ID / "2023").mkdir(parents=True)
    shutil.copyfile(sample_wave_path("2023"), staged_home / "landing" / SURVEY_ID / "2023" / "wave.csv")
    shown = _on_a_terminal([SURVEY, "run", "--home", str(staged_home)], survey_env())
    assert f"{SURVEY_ID}/2023: validating, {len(read_sample('2023'))} rows" in shown

    piped = run_survey(tmp_path / "piped", "ingest", str(sample_wave_path("2024")), "--survey", SURVEY_ID,
                       "--wave", "2024")
    assert piped.returncode == 0, piped.stdout + piped.stderr
    assert piped.stderr == ""
    lines = piped.stdout.splitlines()  # the summary only
    assert len(lines) == 2, piped.stdout  # nothing quarantined: no line saying where quarantined rows are kept
    assert lines[0] == f"{sample_wave_path('2024').name}: layout plain_csv, UTF-8; {rows} rows read, {rows} loaded, 0 quarantined"
    assert lines[1].startswith("Analysts' warehouse: ")
    assert "validating" not in piped.stdout and "\x1b[" not in piped.stdout


@pytest.mark.processes
def test_a_failing_run_prints_its_one_line_summary_without_stack_traces(tmp_path):
    from tests.processes import run_survey

    write_csv(read_sample("2024").drop(columns=["role"]), tmp_path / "landing" / SURVEY_ID / "2024" / "export.csv")
    result = run_survey(tmp_path, "run")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.splitlines() == [
        f"{SURVEY_ID}/2024: FAILED: step wave_responses: File rejected, nothing of wave 2024 loaded: "
        f"landing/{SURVEY_ID}/2024/export.csv: required columns are missing: role "
        f"(run {output.split('(run ')[1][:8]})"]
