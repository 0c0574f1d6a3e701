"""Watching the landing folder: a sensor for new or changed waves, and a daily sweep as a safety net.

Both ask the same question: which landed waves differ from what analysts were last published? That is
the landing fingerprint of each wave recorded on the latest materialisation of ``analyst_warehouse``, so
waves published by ``survey run`` are not loaded again by the sensor, and a run that failed or was killed
after loading a wave but before publishing it is requested again.
"""

from __future__ import annotations

import json

import dagster as dg

from assets.constants import PUBLISHED_WAVES_METADATA, WAVE_PARTITIONS
from assets.partitions import wave_partitions
from assets.publish import analyst_warehouse
from pipelines.jobs import refresh_wave_job
from pipelines.landing import LandedWave, scan_landing
from pipelines.resources import SurveyHomeResource


def published_fingerprints(instance: dg.DagsterInstance) -> dict[str, str]:
    """The landing fingerprint of each wave in the latest publication, by partition key."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=analyst_warehouse.key), limit=1).records
    if not records or records[0].asset_materialization is None:
        return {}
    value = records[0].asset_materialization.metadata.get(PUBLISHED_WAVES_METADATA)
    return dict(value.value) if value is not None else {}


def waves_to_refresh(
    instance: dg.DagsterInstance, landed: list[LandedWave], requested: dict[str, str]
) -> list[LandedWave]:
    """Landed waves whose files differ both from the latest publication and from runs already requested."""
    published = published_fingerprints(instance)
    return [
        wave
        for wave in landed
        if requested.get(wave.partition_key) != wave.fingerprint
        and published.get(wave.partition_key) != wave.fingerprint
    ]


def _unregistered(instance: dg.DagsterInstance, waves: list[LandedWave]) -> list[str]:
    """Partition keys of these waves that the instance does not know yet."""
    return [w.partition_key for w in waves if not instance.has_dynamic_partition(WAVE_PARTITIONS, w.partition_key)]


def _run_request(wave: LandedWave, run_key: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=run_key,
        partition_key=wave.partition_key,
        tags={"survey_id": wave.survey_id, "wave_id": wave.wave_id},
    )


@dg.sensor(
    job=refresh_wave_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition and requests a run for every wave whose landing files are new or changed.",
)
def landing_sensor(context: dg.SensorEvaluationContext, survey_home: SurveyHomeResource):
    landing_dir = survey_home.paths.landing_dir
    if not landing_dir.is_dir():
        return dg.SkipReason(f"no landing folder at {landing_dir}")
    cursor = json.loads(context.cursor) if context.cursor else {}
    digests, requested = cursor.get("digests", {}), cursor.get("requested", {})
    waves = waves_to_refresh(context.instance, scan_landing(landing_dir, digests), requested)
    new_partitions = _unregistered(context.instance, waves)
    requested.update({w.partition_key: w.fingerprint for w in waves})
    return dg.SensorResult(
        run_requests=[_run_request(w, f"{w.partition_key}@{w.fingerprint}") for w in waves],
        dynamic_partitions_requests=[wave_partitions.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps({"digests": digests, "requested": requested}, sort_keys=True),
    )


@dg.schedule(
    job=refresh_wave_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Each morning, re-requests any landed wave whose last load failed or was missed.",
)
def daily_landing_sweep(context: dg.ScheduleEvaluationContext, survey_home: SurveyHomeResource):
    landing_dir = survey_home.paths.landing_dir
    if not landing_dir.is_dir():
        return dg.SkipReason(f"no landing folder at {landing_dir}")
    waves = waves_to_refresh(context.instance, scan_landing(landing_dir), requested={})
    missing = _unregistered(context.instance, waves)
    if missing:
        context.instance.add_dynamic_partitions(WAVE_PARTITIONS, missing)
    tick = context.scheduled_execution_time.isoformat()
    return [_run_request(w, f"{w.partition_key}@{w.fingerprint}@{tick}") for w in waves] or dg.SkipReason(
        "every landed wave is loaded"
    )
