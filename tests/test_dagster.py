"""Real Dagster: definitions load, partitioned runs materialise into a temporary home, a bad file fails
its run clearly without touching other waves, and the landing sensor and daily sweep request the right runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.constants import CHECK_INDICATORS_VALID, CHECK_ROWS_RECONCILE, WAVE_PARTITIONS
from assets.dimensions import survey_dimensions
from assets.indicators import headline_indicators, indicator_trends
from assets.ingest import wave_responses
from pipelines.definitions import build_definitions, defs
from pipelines.landing import partition_key
from pipelines.resources import SurveyHomeResource
from pipelines.settings import PROJECT_ROOT
from pipelines.sensors import daily_landing_sweep, landing_sensor
from tests.conftest import SURVEY_ID, read_sample, sample_wave_path, write_csv

pytestmark = pytest.mark.dagster
ASSETS = [survey_dimensions, wave_responses, headline_indicators, indicator_trends]


def _land(home: Path, wave_id: str, source: Path, name: str | None = None) -> Path:
    target = home / "landing" / SURVEY_ID / wave_id / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _materialize(home: Path, instance: dg.DagsterInstance, wave_id: str) -> dg.ExecuteInProcessResult:
    key = partition_key(SURVEY_ID, wave_id)
    if not instance.has_dynamic_partition(WAVE_PARTITIONS, key):
        instance.add_dynamic_partitions(WAVE_PARTITIONS, [key])
    return dg.materialize(
        ASSETS,
        partition_key=key,
        instance=instance,
        resources={"survey_home": SurveyHomeResource(home=str(home))},
        raise_on_error=False,
    )


def test_definitions_load_without_touching_a_warehouse(tmp_path):
    built = build_definitions(tmp_path)
    dg.Definitions.validate_loadable(built)
    dg.Definitions.validate_loadable(defs)
    graph = built.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {
        "survey_dimensions", "wave_responses", "headline_indicators", "indicator_trends"}
    assert built.resolve_sensor_def("landing_sensor") and built.resolve_schedule_def("daily_landing_sweep")
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and node.kinds, f"{key} lacks a description or kinds"
    assert not list(tmp_path.iterdir())  # nothing created, no database opened


def test_dg_check_defs_passes(tmp_path):
    """What `dg dev` loads: the project's code location, through the real `dg` command line."""
    dg_command = Path(sys.executable).with_name("dg")
    env = {**os.environ, "SURVEY_HOME": str(tmp_path), "VIRTUAL_ENV": sys.prefix}
    result = subprocess.run([str(dg_command), "check", "defs"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr
    assert not list(tmp_path.iterdir())


def test_a_wave_materialises_with_checks_and_row_counts(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "2023", sample_wave_path("2023"))
    result = _materialize(tmp_path, instance, "2023")
    assert result.success
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks[CHECK_ROWS_RECONCILE] and checks[CHECK_INDICATORS_VALID]
    materialization = next(
        m for m in result.asset_materializations_for_node("wave_responses"))
    assert materialization.metadata["dagster/row_count"].value == 129
    assert materialization.metadata["rows_quarantined"].value == 0
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from headline_indicators where wave_id = '2023'").fetchone()[0] == 59
        run_ids = {r[0] for r in con.execute("select run_id from load_log").fetchall()}
    assert run_ids == {result.run_id}


def test_a_rejected_file_fails_its_run_and_leaves_other_waves_alone(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "2023", sample_wave_path("2023"))
    assert _materialize(tmp_path, instance, "2023").success
    warehouse = tmp_path / "warehouse" / "survey.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = con.execute("select * from headline_indicators order by all").fetchall()

    broken = read_sample("2024").drop(columns=["trust_barriers.funding"])
    write_csv(broken, tmp_path / "landing" / SURVEY_ID / "2024" / "broken.csv")
    result = _materialize(tmp_path, instance, "2024")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.user_failure_data.description
    assert "broken.csv" in message and "trust_barriers.funding" in message
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select * from headline_indicators order by all").fetchall() == before
        assert con.execute("select count(*) from respondents where wave_id = '2024'").fetchone()[0] == 0


def test_quarantined_rows_are_reported_and_reconciled(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    rows = read_sample("2025")
    rows.loc[[3, 40], "trust_code"] = "XXX"
    write_csv(rows, tmp_path / "landing" / SURVEY_ID / "2025" / "wave.csv")
    result = _materialize(tmp_path, instance, "2025")
    assert result.success
    metadata = next(iter(result.asset_materializations_for_node("wave_responses"))).metadata
    assert (metadata["rows_read"].value, metadata["rows_loaded"].value, metadata["rows_quarantined"].value) == (118, 116, 2)
    assert "wave.csv row 5, column trust_code" in metadata["quarantine"].value
    check = next(e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == CHECK_ROWS_RECONCILE)
    assert check.passed and check.metadata["rows_in_quarantine"].value == 2


def _sensor(home: Path, instance: dg.DagsterInstance, cursor: str | None = None):
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"survey_home": SurveyHomeResource(home=str(home))}
    ) as context:
        return landing_sensor(context)


def test_sensor_requests_new_and_changed_waves_once(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result = _sensor(tmp_path, instance)
    assert isinstance(result, dg.SkipReason)  # no landing folder yet

    _land(tmp_path, "2023", sample_wave_path("2023"))
    _land(tmp_path, "2024", sample_wave_path("2024"))
    result = _sensor(tmp_path, instance)
    assert sorted(r.partition_key for r in result.run_requests) == [f"{SURVEY_ID}/2023", f"{SURVEY_ID}/2024"]
    assert sorted(result.dynamic_partitions_requests[0].partition_keys) == [f"{SURVEY_ID}/2023", f"{SURVEY_ID}/2024"]
    cursor = result.cursor

    again = _sensor(tmp_path, instance, cursor)
    assert again.run_requests == []  # nothing changed: no duplicate runs

    corrected = read_sample("2024")
    corrected.loc[0, "role"] = "Chair"
    write_csv(corrected, tmp_path / "landing" / SURVEY_ID / "2024" / sample_wave_path("2024").name)
    changed = _sensor(tmp_path, instance, again.cursor)
    assert [r.partition_key for r in changed.run_requests] == [f"{SURVEY_ID}/2024"]
    assert changed.run_requests[0].run_key != result.run_requests[1].run_key

    same_bytes_again = _sensor(tmp_path, instance, changed.cursor)
    assert same_bytes_again.run_requests == []
    assert set(json.loads(changed.cursor)["requested"]) == {f"{SURVEY_ID}/2023", f"{SURVEY_ID}/2024"}


def test_waves_already_loaded_are_not_requested_again(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "2023", sample_wave_path("2023"))
    assert _materialize(tmp_path, instance, "2023").success
    result = _sensor(tmp_path, instance)  # a fresh cursor, as after `survey run`
    assert result.run_requests == []


def test_daily_sweep_requests_waves_whose_last_load_failed(tmp_path):
    home = tmp_path / "home"
    with dg.instance_for_test() as instance:
        _land(home, "2023", sample_wave_path("2023"))
        assert _materialize(home, instance, "2023").success
        broken = read_sample("2024").drop(columns=["role"])
        write_csv(broken, home / "landing" / SURVEY_ID / "2024" / "wave.csv")
        assert not _materialize(home, instance, "2024").success
        resources = {"survey_home": SurveyHomeResource(home=str(home))}
        with dg.build_schedule_context(
            instance=instance, resources=resources, scheduled_execution_time=dt.datetime(2026, 11, 2, 6)
        ) as context:
            requests = daily_landing_sweep(context)
            assert [r.partition_key for r in requests] == [f"{SURVEY_ID}/2024"]
            _land(home, "2025", sample_wave_path("2025"))  # landed while the sensor was off
            requests = daily_landing_sweep(context)
            assert [r.partition_key for r in requests] == [f"{SURVEY_ID}/2024", f"{SURVEY_ID}/2025"]
        assert instance.has_dynamic_partition(WAVE_PARTITIONS, f"{SURVEY_ID}/2025")
