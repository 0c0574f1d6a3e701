"""Dagster as a team deploys it: the first queued runs of a fresh instance take turns at the working database
(on SQLite and on PostgreSQL), `survey run` and `survey dev` record every run in PostgreSQL where the deployment
says so and the UI's GraphQL API shows them, and a deployment's own instance settings are never overwritten
silently.

The PostgreSQL server is ``tests.postgres``'s: CI's (``.ci/run`` starts it), or one started here."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import duckdb
import pytest

from home.settings import PROJECT_ROOT, Settings, SurveyHome
from tests import postgres
from tests.conftest import SURVEY_ID, sample_wave_path
from tests.processes import SURVEY, run_survey, survey_env

pytestmark = pytest.mark.processes

POSTGRES_YAML = PROJECT_ROOT / "deploy" / "dagster-postgres.yaml"
WAVES = [(SURVEY_ID, "2023"), (SURVEY_ID, "2024"), ("staff-pulse", "2025Q4")]  # two surveys' runs queued at once


def _land(home: Path, waves) -> None:
    from sample_data.generator import LANDING_DIR

    for survey, wave in waves:
        source = sample_wave_path(wave).parent if survey == SURVEY_ID else LANDING_DIR / survey / wave
        target = home / "landing" / survey / wave
        target.mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():
            (target / path.name).write_bytes(path.read_bytes())


def _env(storage: str, server: str | None) -> dict:
    extra = {"SURVEY_SETTLE_SECONDS": "0", "SURVEY_BRIEF_PDF": "false"}
    if storage == "postgres":
        extra |= {"SURVEY_DAGSTER_YAML": str(POSTGRES_YAML),
                  "SURVEY_DAGSTER_POSTGRES_URL": postgres.new_database(server)}
    return survey_env(**extra)


def _graphql_runs(port: int) -> list[dict]:
    query = "{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())["data"]["runsOrError"]["results"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_the_first_queued_runs_of_a_fresh_instance_take_turns(storage, tmp_path, request):
    """`survey dev` on a fresh home with three waves of two surveys landed: the sensor queues a run per wave in
    one tick, and the daemon starts one run per survey at a time, the two surveys side by side (before, the first
    runs of a fresh instance started together whatever their survey, and one's publication failed between the
    other's load and its indicators). Every run is recorded in the instance's storage and shown by the UI's
    GraphQL API, and the analysts' warehouse ends with every wave of both surveys."""
    import dagster as dg

    server = request.getfixturevalue("postgres_server") if storage == "postgres" else None
    env = _env(storage, server)
    _land(tmp_path, WAVES)
    port = _free_port()
    dev = subprocess.Popen([SURVEY, "dev", "--home", str(tmp_path), "--port", str(port)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        os.environ["SURVEY_DAGSTER_POSTGRES_URL"] = env.get("SURVEY_DAGSTER_POSTGRES_URL", "")

        def finished():
            if not (tmp_path / "dagster" / "dagster.yaml").exists():
                return None
            with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
                records = instance.get_run_records()
            done = [r for r in records if r.dagster_run.status in (dg.DagsterRunStatus.SUCCESS,
                                                                   dg.DagsterRunStatus.FAILURE)]
            return records if len(records) >= len(WAVES) and len(done) == len(records) else None

        records = postgres.wait_until(finished, timeout=420, every=2)
        assert records, "the queued runs did not all finish"
        shown = _graphql_runs(port)
    finally:
        os.killpg(dev.pid, signal.SIGTERM)
        output = dev.communicate(timeout=90)[0]
        os.environ.pop("SURVEY_DAGSTER_POSTGRES_URL", None)
    statuses = {r.dagster_run.tags.get("dagster/partition"): r.dagster_run.status for r in records}
    assert statuses == {f"{s}/{w}": dg.DagsterRunStatus.SUCCESS for s, w in WAVES}, output[-3000:]
    spans = {r.dagster_run.tags["dagster/partition"]: (r.start_time, r.end_time) for r in records}
    board = sorted(span for key, span in spans.items() if key.startswith(f"{SURVEY_ID}/"))
    for (_, end), (start, _) in zip(board, board[1:]):
        assert start >= end, f"two runs of one survey at once: {spans}"
    staff_start, staff_end = spans["staff-pulse/2025Q4"]
    assert any(start < staff_end and staff_start < end for start, end in board), f"not side by side: {spans}"
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        assert {tuple(w) for w in con.execute("SELECT DISTINCT survey_id, wave_id FROM respondents").fetchall()} == \
            set(WAVES)
    assert {r["runId"] for r in shown} == {r.dagster_run.run_id for r in records}
    assert all(r["status"] == "SUCCESS" for r in shown)
    if storage == "postgres":
        url = env["SURVEY_DAGSTER_POSTGRES_URL"]
        stored = dict(postgres.query(url, "SELECT run_id, status FROM runs"))
        assert stored == {r.dagster_run.run_id: "SUCCESS" for r in records}
        assert not list((tmp_path / "dagster").rglob("*.db"))  # no SQLite storage beside it


def test_survey_run_records_its_runs_in_postgres(postgres_server, tmp_path):
    env = _env("postgres", postgres_server)
    _land(tmp_path, WAVES[:1])

    result = run_survey(tmp_path, "run", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    url = env["SURVEY_DAGSTER_POSTGRES_URL"]
    runs = postgres.query(url, "SELECT status, count(*) FROM runs GROUP BY status")
    tags = postgres.query(url, "SELECT value FROM run_tags WHERE key = 'dagster/partition'")
    assert runs == [("SUCCESS", 1)] and tags == [(f"{SURVEY_ID}/2023",)]  # the wave's steps, then those across waves
    assert (tmp_path / "warehouse" / "survey.duckdb").is_file()
    assert not list((tmp_path / "dagster").rglob("*.db"))


# --- the instance's settings -----------------------------------------------------------------------------

def _prepare(tmp_path, dagster_yaml: Path | None = None) -> Path:
    from pipelines.instance import prepare_dagster_home

    home = SurveyHome(tmp_path, Settings.defaults().model_copy(update={"dagster_yaml": dagster_yaml}))
    return Path(prepare_dagster_home(home)) / "dagster.yaml"


def test_a_deployments_own_instance_settings_are_kept_and_said_so(tmp_path, caplog):
    target = _prepare(tmp_path)
    assert target.read_bytes() == (PROJECT_ROOT / "dagster.yaml").read_bytes()
    own = POSTGRES_YAML.read_text(encoding="utf-8") + "# the team's own\n"
    target.write_text(own, encoding="utf-8")

    _prepare(tmp_path)

    assert target.read_text(encoding="utf-8") == own
    assert "which this command did not write (a deployment's own settings)" in caplog.text


def test_an_explicit_setting_replaces_the_instance_settings_and_keeps_the_old_beside(tmp_path, caplog):
    target = _prepare(tmp_path)
    target.write_text("# edited by hand\n", encoding="utf-8")

    _prepare(tmp_path, POSTGRES_YAML)

    assert target.read_bytes() == POSTGRES_YAML.read_bytes()
    [backup] = target.parent.glob("dagster.yaml.*.bak")
    assert backup.read_text(encoding="utf-8") == "# edited by hand\n"
    assert "as SURVEY_DAGSTER_YAML says" in caplog.text


def test_the_commands_own_copy_follows_the_project(tmp_path, caplog):
    """A copy the command wrote, or an earlier release's copy of the project's file, is brought up to date."""
    import subprocess as sp

    target = _prepare(tmp_path, POSTGRES_YAML)  # written by the command: recorded
    _prepare(tmp_path)
    assert target.read_bytes() == (PROJECT_ROOT / "dagster.yaml").read_bytes()
    earliest = sp.run(["git", "log", "--format=%H", "--", "dagster.yaml"], cwd=PROJECT_ROOT, capture_output=True,
                      text=True).stdout.split()
    if earliest:  # a home of an earlier release: its copy, with no record of who wrote it
        old = sp.run(["git", "show", f"{earliest[-1]}:dagster.yaml"], cwd=PROJECT_ROOT, capture_output=True).stdout
        target.write_bytes(old)
        (target.parent / ".written-by-survey.json").unlink()
        _prepare(tmp_path)
        assert target.read_bytes() == (PROJECT_ROOT / "dagster.yaml").read_bytes()
    assert "did not write" not in caplog.text


def test_no_asset_waits_on_a_slot_shared_by_every_survey_and_every_run_names_its_survey():
    """The queue limits runs per survey (the `survey_id` tag, in both instance settings); a pool on any asset would
    again make one survey's ingest wait for another's."""
    import yaml

    from assets.constants import SURVEY_TAG
    from pipelines.definitions import ASSETS

    assert [a.key for a in ASSETS if a.op.pool] == []
    for path in (PROJECT_ROOT / "dagster.yaml", POSTGRES_YAML):
        limits = yaml.safe_load(path.read_text(encoding="utf-8"))["concurrency"]["runs"]["tag_concurrency_limits"]
        assert limits == [{"key": SURVEY_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}], path


def test_a_run_launched_from_the_ui_is_queued_under_its_surveys_tag(tmp_path):
    """The UI launches a wave's run with its partition only: the instance's run coordinator (dagster.yaml) gives it
    its survey's tag as it queues it, so the queue's per-survey limit applies however a run was launched."""
    import dagster as dg
    from dagster._core.utils import make_new_run_id

    from assets.constants import SURVEY_TAG
    from pipelines.instance import instance_for
    from pipelines.run_coordinator import SurveyRunCoordinator, with_survey_tag

    with instance_for(SurveyHome(tmp_path)) as instance:
        assert isinstance(instance.run_coordinator, SurveyRunCoordinator)
        tagged = {}
        for name, tags in (("partition only", {"dagster/partition": "staff-pulse/2025Q4"}),
                           ("no partition", {}),
                           ("tagged already", {"dagster/partition": "staff-pulse/2026Q1", SURVEY_TAG: "other"})):
            run = instance.add_run(dg.DagsterRun(job_name="refresh_wave", run_id=make_new_run_id(), tags=tags))
            with_survey_tag(instance, run)
            tagged[name] = instance.get_run_by_id(run.run_id).tags  # as stored, where the queue reads them
    assert tagged["partition only"].get(SURVEY_TAG) == "staff-pulse"
    assert SURVEY_TAG not in tagged["no partition"]
    assert tagged["tagged already"][SURVEY_TAG] == "other"


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


LAUNCH = """mutation($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status startTime endTime tags { key value } } } }"


def test_runs_launched_through_the_uis_api_carry_their_surveys_tag_and_take_turns(tmp_path):
    """Two waves of one survey materialised again by hand, as the UI launches them (GraphQL's
    `launchPipelineExecution` with the partition's tag alone), on `survey dev`: each run is queued with its survey's
    tag by the instance's run coordinator, so the queue starts them one after the other, and both succeed."""
    waves = [("staff-pulse", "2025Q4"), ("staff-pulse", "2026Q1")]
    _land(tmp_path, waves)
    port = _free_port()
    dev = subprocess.Popen([SURVEY, "dev", "--home", str(tmp_path), "--port", str(port)], env=_env("sqlite", None),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        def sensor_runs_done():
            try:
                runs = _graphql_runs(port)
            except OSError:
                return None  # the webserver is not up yet
            return runs if len(runs) == len(waves) and all(r["status"] in ("SUCCESS", "FAILURE") for r in runs) else None

        assert postgres.wait_until(sensor_runs_done, timeout=300, every=2), "the sensor's runs did not finish"
        (repository,) = _graphql(port, "{ repositoriesOrError { ... on RepositoryConnection { nodes { name "
                                       "location { name } } } } }")["repositoriesOrError"]["nodes"]
        launched = []
        for survey, wave in waves:
            params = {"selector": {"repositoryLocationName": repository["location"]["name"],
                                   "repositoryName": repository["name"], "pipelineName": "refresh_wave"},
                      "executionMetadata": {"tags": [{"key": "dagster/partition", "value": f"{survey}/{wave}"}]},
                      "mode": "default", "runConfigData": {}}
            result = _graphql(port, LAUNCH, {"params": params})["launchPipelineExecution"]
            assert result["__typename"] == "LaunchRunSuccess", result
            launched.append(result["run"]["runId"])

        def finished():
            runs = [_graphql(port, RUN, {"id": run_id})["runOrError"] for run_id in launched]
            return runs if all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs) else None

        runs = postgres.wait_until(finished, timeout=300, every=2)
    finally:
        os.killpg(dev.pid, signal.SIGTERM)
        output = dev.communicate(timeout=90)[0]
    assert runs and [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], output[-3000:]
    assert all({t["key"]: t["value"] for t in r["tags"]}.get("survey_id") == "staff-pulse" for r in runs)
    first, second = sorted((r["startTime"], r["endTime"]) for r in runs)
    assert second[0] >= first[1], f"two runs of one survey at once: {runs}"
