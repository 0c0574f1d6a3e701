"""Watching the landing folder: a sensor for new or changed waves, and a daily sweep as a safety net.

Both ask ``home.staleness`` which landed waves differ from what analysts were last published (read
from the published warehouse's ``publications``, beside analysts, read-only): a new file, a corrected
file, a changed wave.yaml or a codebook fix makes a wave stale. The sensor requests each stale state of a
wave once (its memory is its cursor), so a wave that fails is retried when one of its inputs changes, not
every tick; the sweep requests every stale wave each morning. A wave with a run under way is left to it.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb

from assets.constants import SURVEY_TAG, WAVE_PARTITIONS
from assets.partitions import PARTITION_TAG, wave_partitions
from assets.resources import SurveyHomeResource
from home.deliveries import PENDING_PREFIX
from home.landing import scan_landing
from home.settings import SurveyHome
from home.settling import unsettled
from home.staleness import StaleWave, missing_waves, stale_waves
from pipelines.jobs import refresh_wave_job
from schemas.codebook_files import CodebookError
from schemas.waves import WaveDeclarationError
from warehouse.publication import read_published_inputs

UNDER_WAY = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]


def _stale(home: SurveyHome, log, digests: dict | None = None, seen: dict | None = None) -> list[StaleWave] | dg.SkipReason:
    """The stale landed waves, or why they cannot be told (no landing folder, a codebook fault, the
    published warehouse held open for writing). Published waves whose landing folder has gone are
    logged, never withdrawn (`survey run --prune` does that); waves with a file still being written
    (``home.settling``; ``seen`` kept between ticks) are left until it settles."""
    if not home.landing_dir.is_dir():
        return dg.SkipReason(f"no landing folder at {home.landing_dir}")
    try:
        published = read_published_inputs(home.warehouse_path)
        landed = scan_landing(home.landing_dir, digests)
        # A wave with a delivery pending (`survey ingest` under way, or killed: the next command settles
        # it) is left alone until then.
        pending = [w for w in landed if any(w.files[0].parent.glob(f"{PENDING_PREFIX}*"))]
        if pending:
            log.info("delivery pending, not checked: %s", ", ".join(w.partition_key for w in pending))
        settling = [w for w in landed if w not in pending
                    and unsettled(w.files, home.settings.settle_seconds, {} if seen is None else seen)]
        if settling:
            log.info("a file changed in the last %s s (still being copied?), checked next time: %s",
                     home.settings.settle_seconds, ", ".join(w.partition_key for w in settling))
        landed = [w for w in landed if w not in pending and w not in settling]
        missing = missing_waves(landed + pending + settling, list(published))
        if missing:
            log.warning("published, but their landing folder is gone (an unmounted volume?): %s; they stay "
                        "published until `survey run --prune` withdraws them", ", ".join(missing))
        return stale_waves(home, landed, published)
    except (CodebookError, WaveDeclarationError) as exc:
        return dg.SkipReason(f"waves not checked: {exc}")
    except duckdb.Error as exc:
        return dg.SkipReason(f"cannot read what is published in {home.warehouse_path}: {str(exc).splitlines()[0]}")


def _under_way(instance: dg.DagsterInstance, partition: str) -> bool:
    runs = instance.get_runs(dg.RunsFilter(statuses=UNDER_WAY, tags={PARTITION_TAG: partition}), limit=1)
    return bool(runs)


def _register(instance: dg.DagsterInstance, stale: list[StaleWave]) -> list[str]:
    """Partition keys of these waves that the instance does not know yet."""
    keys = [s.wave.partition_key for s in stale]
    return [k for k in keys if not instance.has_dynamic_partition(WAVE_PARTITIONS, k)]


def _run_request(stale: StaleWave, run_key: str) -> dg.RunRequest:
    wave = stale.wave
    return dg.RunRequest(
        run_key=run_key,
        partition_key=wave.partition_key,
        tags={SURVEY_TAG: wave.survey_id, "wave_id": wave.wave_id},
    )


@dg.sensor(
    job=refresh_wave_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition and requests a run for every wave whose files, wave.yaml or codebook "
    "changed since analysts were last published.",
)
def landing_sensor(context: dg.SensorEvaluationContext, survey_home: SurveyHomeResource):
    cursor = json.loads(context.cursor) if context.cursor else {}
    digests, requested, seen = cursor.get("digests", {}), cursor.get("requested", {}), cursor.get("seen", {})
    stale = _stale(survey_home.paths, context.log, digests, seen)
    if isinstance(stale, dg.SkipReason):
        return stale
    # Forget waves no longer stale, so that the same inputs landed again (after a withdrawal) are seen.
    requested = {s.wave.partition_key: requested[s.wave.partition_key] for s in stale
                 if s.wave.partition_key in requested}
    waves = [s for s in stale if requested.get(s.wave.partition_key) != s.fingerprint
             and not _under_way(context.instance, s.wave.partition_key)]
    new_partitions = _register(context.instance, waves)
    requested.update({s.wave.partition_key: s.fingerprint for s in waves})
    # Dagster never runs a run key twice: a request's key is new each time, or the same inputs landed
    # again later (a file restored, a withdrawn wave landed once more) would never run.
    number = cursor.get("requests", 0)
    keys = [f"{s.wave.partition_key}@{s.fingerprint}@{number + n}" for n, s in enumerate(waves, start=1)]
    return dg.SensorResult(
        run_requests=[_run_request(s, key) for s, key in zip(waves, keys)],
        dynamic_partitions_requests=[wave_partitions.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps({"digests": {p: d for p, d in digests.items() if Path(p).exists()},  # files gone: forgotten
                           "requested": requested, "requests": number + len(waves),
                           "seen": {p: s for p, s in seen.items() if Path(p).exists()}}, sort_keys=True),
    )


@dg.schedule(
    job=refresh_wave_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Each morning, requests every landed wave that analysts do not have as landed "
    "(a failed or missed load), whatever the sensor already asked for.",
)
def daily_landing_sweep(context: dg.ScheduleEvaluationContext, survey_home: SurveyHomeResource):
    stale = _stale(survey_home.paths, context.log)
    if isinstance(stale, dg.SkipReason):
        return stale
    stale = [s for s in stale if not _under_way(context.instance, s.wave.partition_key)]
    missing = _register(context.instance, stale)
    if missing:
        context.instance.add_dynamic_partitions(WAVE_PARTITIONS, missing)
    tick = context.scheduled_execution_time.isoformat()
    return [_run_request(s, f"{s.wave.partition_key}@{s.fingerprint}@{tick}") for s in stale] or dg.SkipReason(
        "every landed wave is published as landed"
    )
