"""The five guarantees for analysts who query while ingests run, each shown with real processes:

1. an analyst's read-only connection keeps working through a refresh, which neither fails nor waits;
2. a run SIGKILLed at any stage leaves the published warehouse as it was, and the next run completes;
3. two `survey run` started together run one after the other, ending as a single run would;
4. the Dagster UI, idle, holds no connection to either database;
5. a full disk or a permission error while publishing leaves the previous warehouse and says why.

Each test starts from a copy of one home whose wave 2023 is loaded and published, lands wave 2024, and
compares with a home where 2024 was loaded by one uninterrupted run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.processes import (
    VOLATILE_COLUMNS,
    file_sha256,
    land_sample_wave,
    run_survey,
    start_survey,
    survey_env,
    table_rows,
    wait_for_file,
    working_reconciles,
)
from warehouse.parquet_publication import PARQUET_FOLDER
from warehouse.stop_points import STAGES, STOP_AT_ENV, STOP_FILE_ENV

pytestmark = pytest.mark.processes


def snapshot(home: Path) -> Path:
    return home / "warehouse" / "survey.duckdb"


def working(home: Path) -> Path:
    return home / "working" / "improvement-journey" / "survey.duckdb"


@pytest.fixture(scope="module")
def home_with_2023(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("template") / "home"
    land_sample_wave(home, "2023")
    result = run_survey(home, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    return home


@pytest.fixture
def home(home_with_2023, tmp_path) -> Path:
    """A copy of the 2023 home with wave 2024 landed and not yet loaded."""
    copy = tmp_path / "home"
    shutil.copytree(home_with_2023, copy)
    land_sample_wave(copy, "2024")
    return copy


@pytest.fixture(scope="module")
def published_after_2024(home_with_2023, tmp_path_factory) -> dict[str, str]:
    """What analysts should have once 2024 is loaded: one uninterrupted run, apart from run ids and times."""
    copy = tmp_path_factory.mktemp("reference") / "home"
    shutil.copytree(home_with_2023, copy)
    land_sample_wave(copy, "2024")
    result = run_survey(copy, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    return table_rows(snapshot(copy), ignore=VOLATILE_COLUMNS, latest_loads_only=True)


ANALYST = r"""
import json, pathlib, sys, duckdb
mode, path, ready, stop, out = sys.argv[1:6]
WAVES = ("select (select count(distinct wave_id) from respondents), "
         "(select count(distinct wave_id) from headline_indicators), "
         "(select count(*) from responses join respondents using (survey_id, wave_id, respondent_id))")
# "held": one connection opened before the refresh and kept; "fresh": a new connection for each query.
# (In one process DuckDB hands every connection to a path the database already open there, so the two
# kinds of analyst are two processes.)
held = duckdb.connect(path, read_only=True) if mode == "held" else None
seen, errors, queries = [], [], 0
while True:
    stopping = pathlib.Path(stop).exists()
    try:
        if held is not None:
            seen.append(held.execute(WAVES).fetchall()[0])
        else:
            with duckdb.connect(path, read_only=True) as fresh:
                seen.append(fresh.execute(WAVES).fetchall()[0])
    except Exception as exc:
        errors.append(repr(exc))
    queries += 1
    if queries == 1:
        pathlib.Path(ready).write_text("ready")
    if stopping:
        break
json.dump({"seen": seen, "errors": errors, "queries": queries}, open(out, "w"))
"""


def test_analysts_querying_throughout_a_refresh_never_fail_and_the_run_never_waits(home, tmp_path):
    stop = tmp_path / "stop"
    analysts = {}
    for mode in ("held", "fresh"):
        ready, out = tmp_path / f"{mode}.ready", tmp_path / f"{mode}.json"
        process = subprocess.Popen(
            [sys.executable, "-c", ANALYST, mode, str(snapshot(home)), str(ready), str(stop), str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        analysts[mode] = (process, ready, out)
    for process, ready, _ in analysts.values():
        wait_for_file(ready, process)
    refresh = run_survey(home, "run")
    still_running = [mode for mode, (process, _, _) in analysts.items() if process.poll() is None]
    stop.write_text("stop")
    seen = {}
    for mode, (process, _, out) in analysts.items():
        process.wait(timeout=60)
        seen[mode] = json.loads(out.read_text())

    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    assert "improvement-journey/2024: ok" in refresh.stdout
    assert "Waiting" not in refresh.stdout
    assert still_running == ["held", "fresh"], "an analyst's process ended during the refresh"
    assert seen["held"]["errors"] == [] and seen["fresh"]["errors"] == []
    assert seen["held"]["queries"] > 10 and seen["fresh"]["queries"] > 10
    # The connection held throughout still reads the file it opened: wave 2023 alone, consistently.
    assert {tuple(r) for r in seen["held"]["seen"]} == {tuple(seen["held"]["seen"][0])}
    assert seen["held"]["seen"][0][:2] == [1, 1]
    # Each new connection sees the old warehouse or the new one, never tables out of step; once the
    # new one appears the old one never comes back.
    waves = [tuple(r[:2]) for r in seen["fresh"]["seen"]]
    assert set(waves) == {(1, 1), (2, 2)}
    assert waves == sorted(waves)
    with duckdb.connect(str(snapshot(home)), read_only=True) as con:
        assert con.execute("select distinct wave_id from respondents order by 1").fetchall() == [("2023",), ("2024",)]


HOLDER = r"""
import pathlib, sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as some clients open a file by default
con.execute("select count(*) from respondents").fetchall()
pathlib.Path(sys.argv[2]).write_text("ready")
while not pathlib.Path(sys.argv[3]).exists():
    time.sleep(0.05)
"""


def test_a_client_holding_the_published_file_read_write_does_not_block_a_refresh(home, tmp_path):
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(snapshot(home)), str(ready), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_file(ready, holder)
        refresh = run_survey(home, "run")
    finally:
        stop.write_text("stop")
        holder.wait(timeout=60)
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    assert "improvement-journey/2024: ok" in refresh.stdout
    assert holder.returncode == 0, holder.stdout.read()


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_killed_at_any_stage_leaves_the_published_warehouse_as_it_was(
    stage, home, published_after_2024, tmp_path
):
    before_bytes, before_inode = file_sha256(snapshot(home)), snapshot(home).stat().st_ino
    before_tables = table_rows(snapshot(home))
    marker = tmp_path / "stopped"
    run = start_survey(home, "run", env=survey_env(**{STOP_AT_ENV: stage, STOP_FILE_ENV: str(marker)}))
    wait_for_file(marker, run)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)

    assert marker.read_text() == stage
    assert run.returncode == -signal.SIGKILL
    assert snapshot(home).stat().st_ino == before_inode
    assert file_sha256(snapshot(home)) == before_bytes
    assert table_rows(snapshot(home)) == before_tables
    assert working_reconciles(working(home)) == []

    after = run_survey(home, "run")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "improvement-journey/2024: ok" in after.stdout
    assert "had been killed before it finished; marked failed" in after.stdout
    assert table_rows(snapshot(home), ignore=VOLATILE_COLUMNS, latest_loads_only=True) == published_after_2024
    assert not [p.name for p in snapshot(home).parent.iterdir() if p.name not in ("survey.duckdb", "surveys", PARQUET_FOLDER)]
    assert [p.name for p in (snapshot(home).parent / "surveys").iterdir()] == ["improvement-journey.duckdb"]
    assert not list((snapshot(home).parent / PARQUET_FOLDER).rglob(".*"))  # no half-written Parquet left either


def test_two_runs_started_together_run_one_after_the_other_and_end_as_one_run(home, published_after_2024):
    runs = [start_survey(home, "run") for _ in range(2)]
    outputs = [r.communicate(timeout=600)[0] for r in runs]

    assert [r.returncode for r in runs] == [0, 0], outputs
    assert sum("Waiting: pid" in o for o in outputs) == 1, outputs
    assert sum("improvement-journey/2024: ok" in o for o in outputs) == 1, outputs
    assert sum("improvement-journey/2024: up to date" in o for o in outputs) == 1, outputs
    assert table_rows(snapshot(home), ignore=VOLATILE_COLUMNS, latest_loads_only=True) == published_after_2024
    with duckdb.connect(str(working(home)), read_only=True) as con:
        assert con.execute("select count(*) from load_log where wave_id = '2024'").fetchall() == [(1,)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


SENSOR_TICKS = """{ sensorOrError(sensorSelector: {repositoryLocationName: "survey_pipeline",
  repositoryName: "__repository__", sensorName: "landing_sensor"}) {
  ... on Sensor { sensorState { ticks(limit: 1) { status } } } } }"""


def _descendants(pid: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [pid], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _open_files(pids: list[int], folder: Path) -> list[str]:
    opened = []
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith(str(folder)):
                opened.append(f"pid {pid}: {target}")
    return opened


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads open files from /proc (Linux)")
def test_the_dagster_ui_opens_no_warehouse_connection_while_idle(home_with_2023, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(home_with_2023, home)
    port = _free_port()
    ui = start_survey(home, "dev", "--port", str(port), start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        ticked = False
        while not ticked:  # the webserver is up, the code location loaded and the sensor has ticked
            assert ui.poll() is None, ui.stdout.read()
            assert time.monotonic() < deadline, "the UI did not come up and tick its sensor in time"
            try:
                state = _graphql(port, SENSOR_TICKS)["sensorOrError"].get("sensorState") or {}
                ticks = state.get("ticks") or []
                # evaluated, and found nothing to do: an idle UI, not one failing to look
                ticked = bool(ticks) and ticks[0]["status"] in ("SKIPPED", "SUCCESS")
                assert not ticks or ticks[0]["status"] != "FAILURE", ticks
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        processes = _descendants(ui.pid)
        assert len(processes) > 2  # dg dev, dagster dev, the webserver, the daemon, code servers
        assert _open_files(processes, home / "working") == []
        assert _open_files(processes, home / "warehouse") == []
        for path in (working(home), snapshot(home)):  # a writer can take both files while the UI runs
            duckdb.connect(str(path)).close()
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()


def _publish_failed_clearly(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert ("improvement-journey: trends, analysts' warehouse and pack: FAILED: step analyst_warehouse: "
            "could not publish the analysts' warehouse") in result.stdout
    assert "The previous warehouse is unchanged" in result.stdout


def test_a_permission_error_while_publishing_keeps_the_previous_warehouse(home, published_after_2024):
    before = file_sha256(snapshot(home))
    folder = snapshot(home).parent
    command = [str(Path(sys.executable).with_name("survey")), "run", "--home", str(home)]
    if os.geteuid() == 0:
        # root writes anywhere: run as the files' owner without root's capabilities, in a user namespace
        if not shutil.which("unshare"):
            pytest.skip("as root, needs unshare (util-linux) to drop root's file capabilities")
        command = ["unshare", "--user", "--map-user=1000", "--map-group=1000", *command]
    folder.chmod(0o555)  # the analysts' folder can be read but not written
    try:
        result = subprocess.run(command, env=survey_env(), capture_output=True, text=True, timeout=300)
    finally:
        folder.chmod(0o755)
    if "unshare:" in result.stderr:
        pytest.skip(f"user namespaces are not available here: {result.stderr[-200:]}")

    _publish_failed_clearly(result)
    assert "Permission denied" in result.stdout
    assert file_sha256(snapshot(home)) == before
    assert sorted(p.name for p in folder.iterdir()) == [PARQUET_FOLDER, "survey.duckdb", "surveys"]  # nothing half-made
    assert [p.name for p in (folder / "surveys").iterdir()] == ["improvement-journey.duckdb"]
    after = run_survey(home, "run")  # once the folder can be written, nothing was lost
    assert after.returncode == 0, after.stdout + after.stderr
    assert table_rows(snapshot(home), ignore=VOLATILE_COLUMNS, latest_loads_only=True) == published_after_2024


FULL_DISK = r"""
import hashlib, json, pathlib, shutil, subprocess, sys
survey, home, out = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
folder = home / "warehouse"
old = folder / "survey.duckdb"
saved = home / "snapshot_before.duckdb"
shutil.copyfile(old, saved)
# A file system with room for the old warehouse and little more, mounted over its folder.
size_kb = saved.stat().st_size // 1024 + 256
subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], check=True)
shutil.copyfile(saved, old)
result = subprocess.run([survey, "run", "--home", str(home)], capture_output=True, text=True)
json.dump({"returncode": result.returncode, "stdout": result.stdout + result.stderr,
           "sha256": hashlib.sha256(old.read_bytes()).hexdigest(),
           "files": sorted(p.name for p in folder.iterdir())}, open(out, "w"))
"""


def test_a_full_disk_while_publishing_keeps_the_previous_warehouse(home, published_after_2024, tmp_path):
    if not shutil.which("unshare"):
        pytest.skip("needs unshare (util-linux) to mount a small file system in a private mount namespace")
    before = file_sha256(snapshot(home))
    out = tmp_path / "outcome.json"
    survey = str(Path(sys.executable).with_name("survey"))
    isolated = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", sys.executable, "-c", FULL_DISK, survey, str(home), str(out)],
        env=survey_env(), capture_output=True, text=True, timeout=300,
    )
    if not out.exists() and "mount" in isolated.stderr:
        pytest.skip(f"cannot mount a small file system here: {isolated.stderr[-300:]}")
    assert isolated.returncode == 0, isolated.stderr
    outcome = json.loads(out.read_text())
    result = subprocess.CompletedProcess([], outcome["returncode"], outcome["stdout"], "")

    _publish_failed_clearly(result)
    assert "No space left on device" in result.stdout
    assert outcome["sha256"] == before
    assert outcome["files"] == ["survey.duckdb", "surveys"]
    after = run_survey(home, "run")  # with room again, nothing was lost
    assert after.returncode == 0, after.stdout + after.stderr
    assert table_rows(snapshot(home), ignore=VOLATILE_COLUMNS, latest_loads_only=True) == published_after_2024


def test_a_run_killed_while_rebuilding_the_working_file_leaves_it_and_the_published_file_as_they_were(
        home, published_after_2024, tmp_path):
    """A wave loaded again leaves its old rows in the working file's free blocks; the publishing step
    rebuilds the file first. Killed with the rebuilt file complete but not yet renamed over the old one, the
    old file stands, consistent, and the analysts' file as it was; the next run removes the unfinished file
    (its waves are up to date: nothing to publish), and the next publication rebuilds."""
    from warehouse.stop_points import REBUILD

    assert run_survey(home, "run").returncode == 0  # 2024 loaded and published
    before_bytes = file_sha256(snapshot(home))
    marker = tmp_path / "stopped"
    run = start_survey(home, "run", "--force", env=survey_env(**{STOP_AT_ENV: REBUILD, STOP_FILE_ENV: str(marker)}))
    wait_for_file(marker, run)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)

    assert marker.read_text() == REBUILD
    assert (home / "working" / "improvement-journey" / ".survey.duckdb.rebuild").exists()  # complete, never renamed
    assert file_sha256(snapshot(home)) == before_bytes
    assert working_reconciles(working(home)) == []
    with duckdb.connect(str(working(home)), read_only=True) as con:
        assert con.execute("select count(*) from rebuild_reasons").fetchone()[0] > 0  # still to be rebuilt

    after = run_survey(home, "run")
    assert after.returncode == 0, after.stdout + after.stderr
    assert not (home / "working" / "improvement-journey" / ".survey.duckdb.rebuild").exists()
    assert file_sha256(snapshot(home)) == before_bytes  # the same loads' figures: nothing to publish

    again = run_survey(home, "run", "--force")
    assert again.returncode == 0, again.stdout + again.stderr
    with duckdb.connect(str(working(home)), read_only=True) as con:
        assert con.execute("select count(*) from rebuild_reasons").fetchone()[0] == 0  # rebuilt, then copied
    published = table_rows(snapshot(home), ignore=VOLATILE_COLUMNS, latest_loads_only=True)
    history = "publications"  # one publication more than the reference's: the forced one
    assert {t: d for t, d in published.items() if t != history} == {
        t: d for t, d in published_after_2024.items() if t != history}
