"""Running the pipeline from the command line: real Dagster runs, in process, on the home's instance.

Each landed wave becomes a partition and gets one run of the refresh job, recorded in
``<home>/dagster`` like any run the sensor starts, so the UI shows them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from assets.constants import WAVE_PARTITIONS
from pipelines.definitions import build_definitions
from pipelines.instance import instance_for
from pipelines.jobs import REFRESH_WAVE_JOB
from pipelines.landing import LandedWave, scan_landing
from pipelines.settings import SurveyHome


@dataclass(frozen=True)
class WaveRun:
    partition_key: str
    run_id: str
    success: bool
    error: str | None


def _failure_message(result: dg.ExecuteInProcessResult) -> str | None:
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            failure = event.step_failure_data
            if failure.user_failure_data and failure.user_failure_data.description:
                return f"step {event.step_key}: {failure.user_failure_data.description}"
            error = failure.error
            while error is not None and error.cause is not None:  # the user's exception, not Dagster's wrapper
                error = error.cause
            return f"step {event.step_key}: {error.message.strip() if error else 'failed'}"
    failed_checks = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.asset_check_evaluation_data.passed
    ]
    blocking = [c for c in failed_checks if c.severity == dg.AssetCheckSeverity.ERROR]
    if blocking:
        return "blocking check failed: " + ", ".join(c.asset_check_key.name for c in blocking)
    return None if result.success else "run failed"


def _wave_order(home: SurveyHome, wave: LandedWave) -> tuple:
    """Survey, then the codebook's wave order; waves the codebook does not know go last (and will fail)."""
    codebook = home.codebooks.get(wave.survey_id)
    order = [w.id for w in codebook.waves] if codebook else []
    return (wave.survey_id, order.index(wave.wave_id) if wave.wave_id in order else len(order), wave.wave_id)


def run_landed_waves(home: SurveyHome, log_level: str = "WARNING", only: str | None = None) -> list[WaveRun]:
    """Materialise every landed wave (or only the partition ``only``) and everything downstream; one run
    per wave, in wave order.

    ``log_level`` applies to the console only; the full event log is kept in the instance.
    """
    instance = instance_for(home)
    waves = sorted(scan_landing(home.landing_dir), key=lambda w: _wave_order(home, w))
    waves = [w for w in waves if only is None or w.partition_key == only]
    keys = [w.partition_key for w in waves]
    new = [k for k in keys if not instance.has_dynamic_partition(WAVE_PARTITIONS, k)]
    if new:
        instance.add_dynamic_partitions(WAVE_PARTITIONS, new)
    job = build_definitions(home.root).resolve_job_def(REFRESH_WAVE_JOB)
    outcomes = []
    for wave in waves:
        result = job.execute_in_process(
            partition_key=wave.partition_key,
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            tags={"survey_id": wave.survey_id, "wave_id": wave.wave_id, "started_by": "survey run"},
        )
        error = _failure_message(result)
        outcomes.append(WaveRun(wave.partition_key, result.run_id, result.success and error is None, error))
    return outcomes
