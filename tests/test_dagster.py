"""Real Dagster: definitions load, partitioned runs materialise into a temporary home, a bad file fails
its run clearly without touching other waves, and the landing sensor and daily sweep request the right runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.constants import (
    CHECK_CODEBOOK_KEEPS_ANSWERS,
    CHECK_FIELDWORK,
    CHECK_FILES_READABLE,
    CHECK_INDICATORS_VALID,
    CHECK_NOT_ANOTHER_WAVES_FILES,
    CHECK_QUARANTINE_SHARE,
    CHECK_ROWS_RECONCILE,
    CHECK_SAME_RESPONDENT_KEY,
    WAVE_PARTITIONS,
)
from assets.dimensions import survey_dimensions
from assets.indicators import headline_indicators, indicator_trends
from assets.ingest import wave_responses
from assets.resources import SurveyHomeResource
from home.landing import partition_key
from home.settings import PROJECT_ROOT
from pipelines.definitions import ASSETS, build_definitions, defs
from pipelines.sensors import daily_landing_sweep, landing_sensor
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.indicator_catalogue import indicator_catalogue
from tests.conftest import SURVEY_ID, read_sample, sample_wave_path, write_csv

pytestmark = pytest.mark.dagster


def _land(home: Path, wave_id: str, source: Path, name: str | None = None) -> Path:
    target = home / "landing" / SURVEY_ID / wave_id / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _materialize(home: Path, instance: dg.DagsterInstance, wave_id: str, **settings) -> dg.ExecuteInProcessResult:
    key = partition_key(SURVEY_ID, wave_id)
    if not instance.has_dynamic_partition(WAVE_PARTITIONS, key):
        instance.add_dynamic_partitions(WAVE_PARTITIONS, [key])
    return dg.materialize(
        ASSETS,
        partition_key=key,
        instance=instance,
        resources={"survey_home": SurveyHomeResource(home=str(home), **settings)},
        raise_on_error=False,
    )


def test_definitions_load_without_touching_a_warehouse(tmp_path):
    built = build_definitions(tmp_path)
    dg.Definitions.validate_loadable(built)
    dg.Definitions.validate_loadable(defs)
    graph = built.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {
        "survey_dimensions", "wave_responses", "headline_indicators", "indicator_breakdowns", "indicator_trends",
        "analyst_warehouse", "leadership_pack"}
    assert built.resolve_sensor_def("landing_sensor") and built.resolve_schedule_def("daily_landing_sweep")
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and node.kinds, f"{key} lacks a description or kinds"
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert blocking == {CHECK_FILES_READABLE, CHECK_ROWS_RECONCILE, CHECK_INDICATORS_VALID, CHECK_QUARANTINE_SHARE,
                        CHECK_FIELDWORK, CHECK_NOT_ANOTHER_WAVES_FILES, CHECK_SAME_RESPONDENT_KEY,
                        CHECK_CODEBOOK_KEEPS_ANSWERS}
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
    with duckdb.connect(str(tmp_path / "working" / "improvement-journey" / "survey.duckdb"), read_only=True) as con:
        stored = con.execute("select count(*) from headline_indicators where wave_id = '2023'").fetchone()[0]
    # every catalogue indicator of the questionnaire as asked in 2023
    assert stored == len(indicator_catalogue(load_codebook(BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").for_wave("2023")))
    with duckdb.connect(str(tmp_path / "working" / "improvement-journey" / "survey.duckdb"), read_only=True) as con:
        run_ids = {r[0] for r in con.execute("select run_id from load_log").fetchall()}
    assert run_ids == {result.run_id}
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:  # analysts' copy
        published = con.execute("select count(*) from headline_indicators where wave_id = '2023'").fetchall()[0][0]
        publication = con.execute("select distinct run_id from publications").fetchall()
    assert published == stored and publication == [(result.run_id,)]


def test_a_loaded_wave_leaves_no_staging_behind(tmp_path):
    """A wave's valid rows wait in a staging database of their own until loaded; then it is removed."""
    _land(tmp_path, "2025", sample_wave_path("2025"))
    result = _materialize(tmp_path, dg.DagsterInstance.ephemeral(), "2025")
    assert result.success
    materialization = next(iter(result.asset_materializations_for_node("wave_responses")))
    assert materialization.metadata["rows_loaded"].value == len(read_sample("2025"))
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from respondents where wave_id = '2025'").fetchone()[0] == len(
            read_sample("2025"))
    assert not list((tmp_path / "working" / "staging").glob("*"))


def _home_with_2023(tmp_path: Path):
    """A home whose warehouse holds wave 2023, its instance, and the 2023 indicators as they stand."""
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "2023", sample_wave_path("2023"))
    assert _materialize(tmp_path, instance, "2023").success
    warehouse = tmp_path / "working" / "improvement-journey" / "survey.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = con.execute("select * from headline_indicators order by all").fetchall()
    return instance, warehouse, before


def test_a_rejected_file_fails_its_run_and_leaves_other_waves_alone(tmp_path):
    instance, warehouse, before = _home_with_2023(tmp_path)
    published = (tmp_path / "warehouse" / "survey.duckdb").read_bytes()

    broken = read_sample("2024").drop(columns=["trust_barriers.funding"])
    write_csv(broken, tmp_path / "landing" / SURVEY_ID / "2024" / "broken.csv")
    result = _materialize(tmp_path, instance, "2024")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.user_failure_data.description
    assert "broken.csv" in message and "trust_barriers.funding" in message
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert not checks[CHECK_FILES_READABLE].passed
    assert "trust_barriers.funding" in checks[CHECK_FILES_READABLE].metadata["reason"].value
    assert not result.asset_materializations_for_node("headline_indicators")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select * from headline_indicators order by all").fetchall() == before
        assert con.execute("select count(*) from respondents where wave_id = '2024'").fetchone()[0] == 0
    assert (tmp_path / "warehouse" / "survey.duckdb").read_bytes() == published  # analysts' copy untouched


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


def test_rows_lost_in_loading_fail_the_blocking_check_and_change_nothing(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "2023", sample_wave_path("2023"))
    assert _materialize(tmp_path, instance, "2023").success
    warehouse = tmp_path / "working" / "improvement-journey" / "survey.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        before = con.execute("select * from respondents order by all").fetchall()
        # dimensions out of step with the codebook: chairs' roles would be lost when they are looked up
        con.execute("delete from options where question_id = 'role' and option_id = 'chair'")
    key = partition_key(SURVEY_ID, "2023")
    result = dg.materialize(
        [wave_responses, headline_indicators, indicator_trends], partition_key=key, instance=instance,
        resources={"survey_home": SurveyHomeResource(home=str(tmp_path))}, raise_on_error=False,
        selection=[wave_responses, headline_indicators],
    )
    assert not result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == CHECK_ROWS_RECONCILE)
    assert not check.passed
    assert check.metadata["answers_in_warehouse"].value < check.metadata["answers_given"].value
    assert not result.asset_materializations_for_node("wave_responses")
    assert not result.asset_materializations_for_node("headline_indicators")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select * from respondents order by all").fetchall() == before


def test_invalid_indicators_are_not_written_and_fail_their_check(tmp_path, monkeypatch):
    instance, warehouse, before = _home_with_2023(tmp_path)

    import assets.indicators as indicator_assets
    real = indicator_assets.compute_headline_indicators

    def numerator_above_base(*args):  # fault injection: a definition gone wrong
        frame = real(*args)
        frame.loc[frame["indicator_id"] == "trust_barriers.funding", "numerator"] = 500
        return frame

    monkeypatch.setattr(indicator_assets, "compute_headline_indicators", numerator_above_base)
    result = _materialize(tmp_path, instance, "2023")
    assert not result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == CHECK_INDICATORS_VALID)
    assert not check.passed and "trust_barriers.funding: numerator above base" in check.metadata["problems"].value
    assert not result.asset_materializations_for_node("indicator_trends")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select * from headline_indicators order by all").fetchall() == before


def _sensor(home: Path, instance: dg.DagsterInstance, cursor: str | None = None, settle_seconds: float = 0):
    resource = SurveyHomeResource(home=str(home), settle_seconds=settle_seconds)
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"survey_home": resource}) as context:
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


def test_sensor_leaves_a_file_still_being_written_until_it_settles(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    landed = _land(tmp_path, "2023", sample_wave_path("2023"))
    now = time.time()
    os.utime(landed, (now, now))  # written a moment ago: perhaps still being copied
    waiting = _sensor(tmp_path, instance, settle_seconds=5)
    assert waiting.run_requests == []
    os.utime(landed, (now - 10, now - 10))  # its own time says it stopped changing
    assert [r.partition_key for r in _sensor(tmp_path, instance, waiting.cursor, settle_seconds=5).run_requests] == [
        f"{SURVEY_ID}/2023"]
    # On a volume whose clock is ahead, the file's time cannot say: the sensor's own looks, a second apart, do.
    os.utime(landed, (now + 3600, now + 3600))
    first = _sensor(tmp_path, instance, settle_seconds=1)
    assert first.run_requests == []
    time.sleep(1.1)
    assert [r.partition_key for r in _sensor(tmp_path, instance, first.cursor, settle_seconds=1).run_requests] == [
        f"{SURVEY_ID}/2023"]


def test_waves_already_loaded_are_not_requested_again_until_they_change(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    landed = _land(tmp_path, "2023", sample_wave_path("2023"))
    assert _materialize(tmp_path, instance, "2023").success
    result = _sensor(tmp_path, instance)  # a fresh cursor, as after `survey run`
    assert result.run_requests == []
    corrected = read_sample("2023")
    corrected.loc[5, "role"] = "Other"
    write_csv(corrected, landed)
    result = _sensor(tmp_path, instance)
    assert [r.partition_key for r in result.run_requests] == [f"{SURVEY_ID}/2023"]


def test_a_wave_loaded_but_not_yet_published_is_requested_again(tmp_path):
    """A run that stopped between the load and the publication (killed, say) left analysts without the
    wave; the sensor must not take the load for the whole refresh."""
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "2023", sample_wave_path("2023"))
    key = partition_key(SURVEY_ID, "2023")
    instance.add_dynamic_partitions(WAVE_PARTITIONS, [key])
    loaded_only = dg.materialize(ASSETS, partition_key=key, instance=instance, selection=[survey_dimensions, wave_responses],
                                 resources={"survey_home": SurveyHomeResource(home=str(tmp_path))})
    assert loaded_only.success
    assert [r.partition_key for r in _sensor(tmp_path, instance).run_requests] == [key]
    assert _materialize(tmp_path, instance, "2023").success
    assert _sensor(tmp_path, instance).run_requests == []


def test_daily_sweep_requests_waves_whose_last_load_failed(tmp_path):
    home = tmp_path / "home"
    with dg.instance_for_test() as instance:
        _land(home, "2023", sample_wave_path("2023"))
        assert _materialize(home, instance, "2023").success
        broken = read_sample("2024").drop(columns=["role"])
        write_csv(broken, home / "landing" / SURVEY_ID / "2024" / "wave.csv")
        assert not _materialize(home, instance, "2024").success
        resources = {"survey_home": SurveyHomeResource(home=str(home), settle_seconds=0)}  # files written just now
        with dg.build_schedule_context(
            instance=instance, resources=resources, scheduled_execution_time=dt.datetime(2026, 11, 2, 6)
        ) as context:
            requests = daily_landing_sweep(context)
            assert [r.partition_key for r in requests] == [f"{SURVEY_ID}/2024"]
            _land(home, "2025", sample_wave_path("2025"))  # landed while the sensor was off
            requests = daily_landing_sweep(context)
            assert [r.partition_key for r in requests] == [f"{SURVEY_ID}/2024", f"{SURVEY_ID}/2025"]
        assert instance.has_dynamic_partition(WAVE_PARTITIONS, f"{SURVEY_ID}/2025")


def test_sensor_picks_up_an_export_of_any_layout_and_its_correction(tmp_path, codebook):
    from tests.exports import BUILDERS

    instance = dg.DagsterInstance.ephemeral()
    wave_dir = tmp_path / "landing" / SURVEY_ID / "2025"
    wave_dir.mkdir(parents=True)
    build, suffix = BUILDERS["microsoft_forms"]
    export = build(read_sample("2025").head(20), codebook.for_wave("2025"), wave_dir / f"forms{suffix}")
    first = _sensor(tmp_path, instance)
    assert [r.partition_key for r in first.run_requests] == [f"{SURVEY_ID}/2025"]
    build(read_sample("2025").head(25), codebook.for_wave("2025"), export)  # the corrected export
    second = _sensor(tmp_path, instance, first.cursor)
    assert [r.partition_key for r in second.run_requests] == [f"{SURVEY_ID}/2025"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_survey_run_runs_every_asset_once():
    """`survey run` splits the job into each wave's steps and the steps across waves: none left out."""
    from pipelines.runner import ACROSS_WAVES_STEPS, WAVE_STEPS

    everything = [a.key for a in WAVE_STEPS + ACROSS_WAVES_STEPS]
    assert sorted(everything) == sorted(a.key for a in ASSETS) and len(set(everything)) == len(everything)
    assert all(a.partitions_def is None for a in ACROSS_WAVES_STEPS)


def test_a_refresh_reports_its_first_failure_whether_a_wave_or_the_publication():
    from pipelines.runner import Refresh, WaveRun

    ok, failed = WaveRun("s/1", "r1", True, None), WaveRun("s/2", "r2", False, "step wave_responses: bad file")
    published, not_published = WaveRun("all", "r3", True, None), WaveRun("all", "r4", False, "step analyst_warehouse")
    assert Refresh(runs=[ok], publications=[published]).first_failure is None
    assert Refresh(runs=[ok, failed], publications=[not_published]).first_failure is failed
    assert Refresh(runs=[ok], publications=[not_published]).first_failure is not_published
    assert not Refresh(runs=[failed]).success and Refresh(runs=[ok]).success


def test_a_new_dagster_instance_does_not_reload_published_waves(demo_run):
    """What is published is read from the warehouse's publications, not from Dagster's event log."""
    assert _sensor(demo_run.home, dg.DagsterInstance.ephemeral()).run_requests == []
    resources = {"survey_home": SurveyHomeResource(home=str(demo_run.home))}
    with dg.instance_for_test() as fresh, dg.build_schedule_context(
            instance=fresh, resources=resources, scheduled_execution_time=dt.datetime(2026, 12, 2, 6)) as context:
        assert isinstance(daily_landing_sweep(context), dg.SkipReason)


def test_a_wave_that_failed_undeclared_is_retried_once_its_wave_yaml_is_added(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    frame = read_sample("2025")
    frame["submitted_at"] = frame["submitted_at"].str.replace("2025-", "2026-", regex=False)
    write_csv(frame, tmp_path / "landing" / SURVEY_ID / "2026" / "export.csv")
    first = _sensor(tmp_path, instance)
    assert [r.partition_key for r in first.run_requests] == [f"{SURVEY_ID}/2026"]
    failed = _materialize(tmp_path, instance, "2026")
    assert not failed.success
    assert _sensor(tmp_path, instance, first.cursor).run_requests == []  # same inputs: not every tick

    (tmp_path / "landing" / SURVEY_ID / "2026" / "wave.yaml").write_text(
        "fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\n")
    retried = _sensor(tmp_path, instance, first.cursor)
    assert [r.partition_key for r in retried.run_requests] == [f"{SURVEY_ID}/2026"]
    assert _materialize(tmp_path, instance, "2026").success
    assert _sensor(tmp_path, instance, retried.cursor).run_requests == []  # published as landed


def test_a_wave_that_failed_on_the_codebook_is_retried_once_the_codebook_is_fixed(tmp_path):
    import yaml

    instance = dg.DagsterInstance.ephemeral()
    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text())
    barriers = next(q for q in raw["questions"] if q["id"] == "trust_barriers")
    option = next(o for o in barriers["options"] if o["id"] == "financial_pressures")
    option.pop("asked_from")
    option["asked_in"] = ["2024"]  # a wrong limit: the 2025 export has the option
    home_codebook = tmp_path / "codebooks" / f"{SURVEY_ID}.yaml"
    home_codebook.parent.mkdir(parents=True)
    home_codebook.write_text(yaml.safe_dump(raw))
    _land(tmp_path, "2025", sample_wave_path("2025"))
    first = _sensor(tmp_path, instance)
    failed = _materialize(tmp_path, instance, "2025")
    assert not failed.success
    assert _sensor(tmp_path, instance, first.cursor).run_requests == []

    option["asked_in"] = ["2024", "2025"]
    home_codebook.write_text(yaml.safe_dump(raw))
    fixed = _sensor(tmp_path, instance, first.cursor)
    assert [r.partition_key for r in fixed.run_requests] == [f"{SURVEY_ID}/2025"]
    assert _materialize(tmp_path, instance, "2025").success


def test_the_sensor_leaves_a_wave_whose_run_is_under_way(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    _land(tmp_path, "2023", sample_wave_path("2023"))
    key = partition_key(SURVEY_ID, "2023")
    instance.add_dynamic_partitions(WAVE_PARTITIONS, [key])
    job = build_definitions(tmp_path).resolve_job_def("refresh_wave")
    run = instance.create_run_for_job(job, tags={"dagster/partition": key})
    assert run.status == dg.DagsterRunStatus.NOT_STARTED  # created, not finished
    assert _sensor(tmp_path, instance).run_requests == []
    instance.report_run_failed(run)
    assert [r.partition_key for r in _sensor(tmp_path, instance).run_requests] == [key]


def test_the_sensor_says_when_a_published_waves_landing_folder_is_gone_and_requests_nothing(demo_run, tmp_path, capfd):
    home = tmp_path / "home"
    shutil.copytree(demo_run.home, home)
    shutil.rmtree(home / "landing" / SURVEY_ID / "2024")
    result = _sensor(home, dg.DagsterInstance.ephemeral())
    assert result.run_requests == []
    assert f"landing folder is gone (an unmounted volume?): {SURVEY_ID}/2024;" in capfd.readouterr().err


def test_the_quarantine_preview_shows_markdown_in_a_file_name_as_text(tmp_path, codebook, resolver):
    """The preview is rendered as markdown by the UI: a file name as delivered must not become an image,
    a link or HTML there."""
    from assets.ingest import _quarantine_preview
    from validation.engine import validate_wave

    rows = read_sample("2024").head(10)
    rows.loc[3, "trust_code"] = "XXX"
    path = write_csv(rows, tmp_path / "export ![x](http:example) <b>.csv")
    preview = _quarantine_preview(validate_wave([path], codebook, "2024", resolver))
    assert ("- export \\!\\[x\\](http:example) \\<b\\>.csv row 5, column trust_code: must be the ODS code of a "
            "trust in the reference list (rule known_trust_code; value: 3 characters: letters)") in preview.splitlines()
    assert "![x]" not in preview and "<b>" not in preview


def test_the_files_table_of_a_load_shows_markdown_in_a_file_name_as_text(tmp_path):
    _land(tmp_path, "2023", sample_wave_path("2023"), name="wave ![x](http:example) <b>.csv")
    result = _materialize(tmp_path, dg.DagsterInstance.ephemeral(), "2023")
    assert result.success
    [materialization] = result.asset_materializations_for_node("wave_responses")
    files = materialization.metadata["files"].value
    assert "wave \\!\\[x\\](http:example) \\<b\\>.csv" in files and "![x]" not in files and "<b>" not in files


def test_the_sensor_requests_inputs_seen_before_under_a_new_run_key(tmp_path):
    """Dagster never runs a run key twice: a file put back as it was must still be run."""
    instance = dg.DagsterInstance.ephemeral()
    landed = _land(tmp_path, "2023", sample_wave_path("2023"))
    first = _sensor(tmp_path, instance)
    corrected = read_sample("2023")
    corrected.loc[0, "role"] = "Chair"
    write_csv(corrected, landed)
    second = _sensor(tmp_path, instance, first.cursor)
    shutil.copyfile(sample_wave_path("2023"), landed)  # the first file back
    third = _sensor(tmp_path, instance, second.cursor)
    keys = [r.run_key for result in (first, second, third) for r in result.run_requests]
    assert len(keys) == 3 and len(set(keys)) == 3
    assert keys[0].split("@")[1] == keys[2].split("@")[1]  # the same inputs, asked for again


def test_the_sensor_leaves_a_wave_with_a_delivery_pending(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    landed = _land(tmp_path, "2023", sample_wave_path("2023"))
    (landed.parent / ".pending-0123456789ab").mkdir()
    assert _sensor(tmp_path, instance).run_requests == []
    (landed.parent / ".pending-0123456789ab").rmdir()
    assert [r.partition_key for r in _sensor(tmp_path, instance).run_requests] == [f"{SURVEY_ID}/2023"]


def test_a_wave_whose_files_change_while_it_is_validated_is_not_loaded_from_the_old_files(tmp_path, monkeypatch):
    """Validation runs before the writer lock: a delivery landing meanwhile must not be undone."""
    import assets.ingest as ingest_assets
    from exports import sha256_of

    landed = _land(tmp_path, "2023", sample_wave_path("2023"))
    real = ingest_assets.validate_wave

    def validated_then_redelivered(*args, **kwargs):
        validation = real(*args, **kwargs)
        write_csv(read_sample("2023").head(50), landed)  # another delivery lands before the lock is taken
        return validation

    monkeypatch.setattr(ingest_assets, "validate_wave", validated_then_redelivered)
    result = _materialize(tmp_path, dg.DagsterInstance.ephemeral(), "2023")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_failure_data.user_failure_data.description == (
        f"Wave 2023 not loaded: its files changed while it was validated ({landed.name} no longer holds the bytes "
        "read); the next run loads them as they are now")
    # The archive keeps exactly the bytes validated, or nothing: no copy of the new bytes under the old digest.
    archived = [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert not [p for p in archived if p.suffix == ".csv" and not p.name.startswith(sha256_of(p)[:16])]
    assert not [p for p in archived if p.name.startswith(".")]  # no partial copy left
    with duckdb.connect(str(tmp_path / "working" / "improvement-journey" / "survey.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from respondents").fetchone() == (0,)
