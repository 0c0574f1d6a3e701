"""Running the pipeline from the command line: real Dagster runs, in process, on the home's instance.

Each landed wave that is stale (``home.staleness``: its files, wave.yaml or codebook differ from
what analysts were last published) becomes a partition and gets a run of its own steps, in fieldwork
order; the last wave's run then goes on to what spans every wave (trends, the analysts' warehouse, the
leadership pack), or a run of its own does when that wave failed before it was loaded. Runs are recorded
in ``<home>/dagster`` like any run the sensor starts, so the UI shows them afterwards. The command holds
each survey's writer lock while it refreshes the survey, so two commands started together refresh one
survey one after the other (the second finds nothing left to do) and two surveys side by side. Waves the warehouse holds whose landing folder has gone are reported,
and withdrawn only when asked (``prune``): an unmounted volume must never withdraw every wave.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets.constants import FIGURES_CHANGED_METADATA, SURVEY_TAG, WAVE_PARTITIONS
from assets.dimensions import survey_dimensions
from assets.indicators import headline_indicators, indicator_breakdowns, indicator_trends
from assets.ingest import wave_responses
from assets.publish import analyst_warehouse, leadership_pack
from home.deliveries import Delivery, recover_deliveries
from home.landing import LandedWave, scan_landing, split_partition_key
from home.settings import SurveyHome
from home.settling import unsettled
from home.staleness import missing_waves, stale_waves, why_loaded_again
from pipelines.crash_log import write_log
from pipelines.definitions import build_definitions
from pipelines.instance import instance_for
from pipelines.jobs import REFRESH_WAVE_JOB
from pipelines.waves import withdraw_wave
from warehouse.publication import loaded_waves, published_inputs, published_wave_sources, read_published_inputs
from warehouse.working_databases import split_shared_working_database, survey_writer_lock, working_database

# A command refreshing several waves runs each wave's own steps (the dimensions before the first), then
# once the steps that span every wave, rather than all of them once per wave.
WAVE_STEPS = [survey_dimensions, wave_responses, headline_indicators, indicator_breakdowns]
ACROSS_WAVES_STEPS = [indicator_trends, analyst_warehouse, leadership_pack]
ACROSS_WAVES = "trends, analysts' warehouse and pack"
PRUNE_REASON = "landing folder gone: withdrawn by `survey run --prune`"

COMMAND_TAG = "survey/command"  # one id per `survey run` command, to recognise runs a dead command left
IN_PROGRESS = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)


@dataclass(frozen=True)
class WaveRun:
    partition_key: str
    run_id: str
    success: bool
    error: str | None
    loaded: bool = False  # the wave reached the warehouse (its load step materialised)
    failed_step: str | None = None  # the step whose failure ``error`` is
    figures_changed: int = 0  # published figures of the wave that its new indicators change
    warnings: tuple[str, ...] = ()  # the checks that passed with a warning (a few times outside fieldwork, ...)
    loaded_again: str | None = None  # why a wave the warehouse held was loaded again (``why_loaded_again``)


@dataclass
class Refresh:
    """What one `survey run` did: the runs it made, and the waves already published as landed."""

    runs: list[WaveRun] = field(default_factory=list)  # one per wave: its own partition
    # Then once per survey refreshed, for all of its waves: trends, analysts' warehouse, pack.
    publications: list[WaveRun] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)  # run ids of runs killed before they finished
    recovered: list[str] = field(default_factory=list)  # deliveries a killed `survey ingest` left, settled
    missing: list[str] = field(default_factory=list)  # waves in the warehouse whose landing folder has gone
    withdrawn: list[str] = field(default_factory=list)  # of those, withdrawn (prune)
    prune_refused: dict[str, str] = field(default_factory=dict)  # of those, not withdrawn, and why
    settling: dict[str, list[str]] = field(default_factory=dict)  # waves not read: files still being written

    @property
    def first_failure(self) -> WaveRun | None:
        return next((r for r in [*self.runs, *self.publications] if not r.success), None)

    @property
    def success(self) -> bool:
        return self.first_failure is None


def _failure(result: dg.ExecuteInProcessResult, steps: set[str] | None = None,
             working_dir: Path | None = None) -> tuple[str, str] | None:
    """Which step failed and why (the first failed step's own error, or the blocking checks that failed),
    among ``steps`` or the whole run; None when they succeeded."""
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE and (steps is None or event.step_key in steps):
            failure = event.step_failure_data
            if failure.user_failure_data and failure.user_failure_data.description:
                return event.step_key, f"step {event.step_key}: {failure.user_failure_data.description}"
            error = failure.error
            while error is not None and error.cause is not None:  # the user's exception, not Dagster's wrapper
                error = error.cause
            message = error.message.strip().splitlines()[0] if error and error.message.strip() else "failed"
            # Unforeseen (no refusal worded for it): the traceback goes to a private log file the line names.
            log = write_log(f"step {event.step_key} of run {result.run_id} failed", failure.error.to_string(),
                            working_dir) if failure.error is not None else None
            where = f" (full traceback in {log})" if log else ""
            return event.step_key, f"step {event.step_key}: {message}{where}"
    failed_checks = [
        e for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.asset_check_evaluation_data.passed
        and (steps is None or e.step_key in steps)
    ]
    blocking = [e for e in failed_checks if e.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR]
    if blocking:
        names = ", ".join(e.asset_check_evaluation_data.asset_check_key.name for e in blocking)
        return blocking[0].step_key, f"blocking check failed: {names}"
    if steps is not None:
        failed = [step for step in sorted(steps) if not result.is_node_success(step)]
        return None if not failed else (failed[0], "not run: an earlier step failed")
    return None if result.success else ("", "run failed")


def _failure_message(result: dg.ExecuteInProcessResult, steps: set[str] | None = None,
                     working_dir: Path | None = None) -> str | None:
    failure = _failure(result, steps, working_dir)
    return failure[1] if failure else None


def _figures_changed(result: dg.ExecuteInProcessResult) -> int:
    materialized = result.asset_materializations_for_node(headline_indicators.key.path[-1])
    value = materialized[-1].metadata.get(FIGURES_CHANGED_METADATA) if materialized else None
    return int(value.value) if value is not None else 0


def _warnings(result: dg.ExecuteInProcessResult) -> tuple[str, ...]:
    return tuple(sorted({e.asset_check_key.name for e in result.get_asset_check_evaluations()
                         if not e.passed and e.severity == dg.AssetCheckSeverity.WARN}))


def _step_names(assets) -> set[str]:
    return {a.key.path[-1] for a in assets}


def _wave_order(home: SurveyHome, wave: LandedWave) -> tuple:
    """Survey, then fieldwork order; waves nothing declares go last (and will fail, saying how to declare them)."""
    codebook = home.codebooks.get(wave.survey_id)
    order = [w.id for w in codebook.waves] if codebook else []
    return (wave.survey_id, order.index(wave.wave_id) if wave.wave_id in order else len(order), wave.wave_id)


def unprunable(home: SurveyHome, landed: list[LandedWave], loaded: list[tuple[str, str]],
               missing: list[str]) -> dict[str, str]:
    """The missing waves `--prune` must not withdraw, and why: every wave of their survey is missing (or
    the landing folder itself), which looks like an unmounted volume rather than a wave taken away."""
    refused = {}
    landed_surveys = {w.survey_id for w in landed}
    for key in missing:
        survey_id = split_partition_key(key)[0]
        if not home.landing_dir.is_dir():
            refused[key] = f"the landing folder {home.landing_dir} is not there (is its volume mounted?)"
        elif survey_id not in landed_surveys:
            refused[key] = (f"every wave of {survey_id} is missing from the landing folder (is its volume mounted?); "
                            f"withdraw a wave on purpose with `survey wave remove {survey_id} <wave>`")
    return refused


def fail_abandoned_runs(instance: dg.DagsterInstance, command_id: str, survey_id: str) -> list[str]:
    """Mark as failed the survey's in-process runs of earlier `survey run` commands still shown in progress, so
    the UI does not show them running for ever; returns their run ids.

    Called with the survey's writer lock held, which every such command holds while it refreshes the survey: any
    run of the survey by another command that has not finished belongs to a process that died (killed, or the
    machine stopped). Another survey's runs may be under way in another process, and are left alone.
    """
    abandoned = []
    for run in instance.get_runs(dg.RunsFilter(statuses=list(IN_PROGRESS),
                                               tags={"started_by": "survey run", SURVEY_TAG: survey_id})):
        if run.tags.get(COMMAND_TAG) != command_id:
            instance.report_run_failed(run, "the command running it ended before the run finished (killed?)")
            abandoned.append(run.run_id)
    return abandoned


def _published_and_loaded(home: SurveyHome, survey_id: str) -> tuple[dict, list[tuple[str, str]], dict]:
    """What the survey's latest publication recorded for each wave (its inputs fingerprint, and its exports by
    wave id), and which waves its working database holds. Nothing counts as published when the analysts' file has
    gone: every wave is then published again."""
    if not home.working_path(survey_id).exists():
        return {}, [], {}
    with working_database(home, survey_id) as con:
        if not home.warehouse_path.exists():
            return {}, loaded_waves(con), {}
        exports = {wave_id: set(sources["files"].items()) for (_, wave_id), sources in published_wave_sources(con).items()}
        return published_inputs(con), loaded_waves(con), exports


def surveys_to_refresh(home: SurveyHome) -> list[str]:
    """Every survey with a landed wave or a working database, by id."""
    return sorted({w.survey_id for w in scan_landing(home.landing_dir)} | set(home.surveys_with_working_database()))


def run_landed_waves(
    home: SurveyHome,
    log_level: str = "WARNING",
    only: str | None = None,
    force: bool = False,
    on_wait: Callable[[str], None] | None = None,
    delivery: Delivery | None = None,
    prune: bool = False,
) -> Refresh:
    """Materialise every stale landed wave (or only the partition ``only``; every one with ``force``),
    and everything downstream; one run per wave, in fieldwork order, survey by survey.

    ``delivery`` (with ``only``): a pending delivery of that wave (`survey ingest`), read instead of its
    landed files and promoted by the run. ``prune``: withdraw the waves whose landing folder has gone.
    Each survey is refreshed holding its own writer lock, waiting while another process writes that survey
    (``on_wait`` is told who); a process refreshing another survey is never waited for. ``log_level``
    applies to the console only; the full event log is kept in the instance.
    """
    split_shared_working_database(home)  # before the surveys are listed by their working databases
    surveys = [split_partition_key(only)[0]] if only is not None else surveys_to_refresh(home)
    instance = instance_for(home)
    command_id = uuid.uuid4().hex
    refresh = Refresh()
    for survey_id in surveys:
        with survey_writer_lock(home, survey_id, on_wait=on_wait):
            _refresh(home, instance, command_id, refresh, survey_id, log_level, only, force, delivery, prune)
    return refresh


def _refresh(home: SurveyHome, instance: dg.DagsterInstance, command_id: str, refresh: Refresh, survey_id: str,
             log_level: str, only: str | None, force: bool, delivery: Delivery | None, prune: bool) -> None:
    """One survey's part of the refresh, added to ``refresh``; call with the survey's writer lock held."""
    refresh.abandoned += fail_abandoned_runs(instance, command_id, survey_id)
    if delivery is None:
        refresh.recovered += recover_deliveries(home.landing_dir, home.archive_dir, survey_id)
    landed = [w for w in scan_landing(home.landing_dir) if w.survey_id == survey_id]
    published, loaded, exports = _published_and_loaded(home, survey_id)
    missing = missing_waves(landed, loaded)
    refresh.missing += missing
    if prune and missing:
        refused = unprunable(home, landed, loaded, missing)
        refresh.prune_refused |= refused
        for key in missing:
            if key not in refused:
                withdraw_wave(home, *split_partition_key(key), reason=PRUNE_REASON)
                refresh.withdrawn.append(key)
        published, loaded, exports = _published_and_loaded(home, survey_id)
    if delivery is not None and delivery.files:
        wave_id = delivery.wave_dir.name
        landed = [w for w in landed if w.partition_key != only] + [
            LandedWave(survey_id, wave_id, tuple(delivery.files))]
    waves = sorted((w for w in landed if only is None or w.partition_key == only), key=lambda w: _wave_order(home, w))
    if delivery is None:  # a delivery is copied in by this command, complete
        waves, settling = _settled(waves, home.settings.settle_seconds)
        refresh.settling |= settling
    reloads: dict[str, str | None] = {}
    if not force:
        stale = {s.wave.partition_key: s for s in stale_waves(home, waves, published)}
        reloads = {key: why_loaded_again(s, (survey_id, s.wave.wave_id) in loaded, (survey_id, s.wave.wave_id) in published,
                                         exports.get(s.wave.wave_id, set()))
                   for key, s in stale.items()}
        refresh.up_to_date += [w.partition_key for w in waves if w.partition_key not in stale]
        waves = [w for w in waves if w.partition_key in stale]
    # Nothing to load, but the analysts' file lags the working database: a wave withdrawn since it was last
    # published (by this command, or by one that was killed or failed to publish), or a home an earlier
    # release published without the survey's own snapshot.
    if not waves and home.warehouse_path.exists() and _lags(home.snapshot_path(survey_id), loaded):
        refresh.publications.append(_publish(home, instance, log_level, survey_id,
                                             {"started_by": "survey run", COMMAND_TAG: command_id}))
        return
    _run_waves(home, instance, refresh, waves, log_level, command_id,
               pending=delivery.pending_dir.name if delivery is not None and delivery.files else None, reloads=reloads)


def _lags(snapshot: Path, loaded: list[tuple[str, str]]) -> bool:
    """Whether the survey's snapshot lacks a wave its working database holds, or holds one it does not."""
    return set(read_published_inputs(snapshot)) != set(loaded) if snapshot.exists() else bool(loaded)


def _settled(waves: list[LandedWave], seconds: float) -> tuple[list[LandedWave], dict[str, list[str]]]:
    """The waves whose files have settled (``home.settling``), after waiting once for files changed
    moments ago; and, by wave, the names of files still being written after that wait."""
    seen: dict[str, list] = {}
    if not unsettled([p for w in waves for p in w.files], seconds, seen):
        return waves, {}
    time.sleep(seconds)
    still = {w.partition_key: [p.name for p in unsettled(w.files, seconds, seen)] for w in waves}
    return [w for w in waves if not still[w.partition_key]], {k: names for k, names in still.items() if names}


def _run_waves(home: SurveyHome, instance: dg.DagsterInstance, refresh: Refresh, waves: list[LandedWave],
               log_level: str, command_id: str, pending: str | None, reloads: dict[str, str | None]) -> None:
    """Run one survey's ``waves``, then publish it; the runs and the publication are added to ``refresh``
    (with ``reloads``: why a wave already held is loaded again, by partition key)."""
    if not waves:
        return
    keys = [w.partition_key for w in waves]
    new = [k for k in keys if not instance.has_dynamic_partition(WAVE_PARTITIONS, k)]
    if new:
        instance.add_dynamic_partitions(WAVE_PARTITIONS, new)
    job = build_definitions(home.root, home.settings).resolve_job_def(REFRESH_WAVE_JOB)
    loggers = {"console": {"config": {"log_level": log_level}}}
    tags = {"started_by": "survey run", COMMAND_TAG: command_id, "survey/pid": str(os.getpid())}
    across_steps = _step_names(ACROSS_WAVES_STEPS)
    loaded_then_failed = False
    runs: list[WaveRun] = []
    publication: WaveRun | None = None
    for number, wave in enumerate(waves):
        selection = WAVE_STEPS if number == 0 else WAVE_STEPS[1:]  # the dimensions once, before the first wave
        # The last wave's run also publishes, unless a wave before it was left loaded without its results:
        # a run fewer (its start-up costs about a second).
        publishes = number == len(waves) - 1 and not loaded_then_failed
        run_config = {"loggers": loggers}
        if pending is not None:
            run_config["ops"] = {wave_responses.key.path[-1]: {"config": {"pending_folder": pending}}}
        result = job.execute_in_process(
            partition_key=wave.partition_key, instance=instance, raise_on_error=False, run_config=run_config,
            asset_selection=[a.key for a in selection + (ACROSS_WAVES_STEPS if publishes else [])],
            tags={**tags, SURVEY_TAG: wave.survey_id, "wave_id": wave.wave_id},
        )
        failure = _failure(result, _step_names(selection), home.working_dir)
        error = failure[1] if failure else None
        loaded = bool(result.asset_materializations_for_node(wave_responses.key.path[-1]))
        runs.append(WaveRun(wave.partition_key, result.run_id, error is None, error, loaded,
                            failure[0] if failure else None, _figures_changed(result), _warnings(result),
                            reloads.get(wave.partition_key)))
        loaded_then_failed |= error is not None and loaded
        if publishes and error is None:
            failure = _failure_message(result, across_steps, home.working_dir)
            publication = WaveRun(f"{wave.survey_id}: {ACROSS_WAVES}", result.run_id, failure is None, failure)
    refresh.runs += runs
    if publication is None and any(r.success for r in runs):
        if loaded_then_failed:
            # A wave is in the working database without its indicators: publishing now would show analysts
            # its respondents beside stale figures and record it as published. Fix it and run again.
            publication = WaveRun(f"{waves[0].survey_id}: {ACROSS_WAVES}", "", False,
                                  "not published: a wave failed after it was loaded")
        else:  # the last wave failed before it was loaded: publish the others in a run of their own
            publication = _publish(home, instance, log_level, waves[0].survey_id, tags, job)
    if publication is not None:
        refresh.publications.append(publication)


def _publish(home: SurveyHome, instance: dg.DagsterInstance, log_level: str, survey_id: str, tags: dict,
             job=None) -> WaveRun:
    """A run of the survey's dimensions (a withdrawn wave's declaration may have gone) and its steps across
    waves: trends, the analysts' warehouse and the pack."""
    job = job or build_definitions(home.root, home.settings).resolve_job_def(REFRESH_WAVE_JOB)
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        asset_selection=[a.key for a in [survey_dimensions, *ACROSS_WAVES_STEPS]], tags={**tags, SURVEY_TAG: survey_id},
    )
    error = _failure_message(result, working_dir=home.working_dir)
    return WaveRun(f"{survey_id}: {ACROSS_WAVES}", result.run_id, result.success and error is None, error)


def publish_across_waves(home: SurveyHome, survey_id: str, log_level: str = "WARNING",
                         tags: dict | None = None) -> WaveRun:
    """Run the survey's steps across waves once (after a wave is withdrawn); call with its writer lock held."""
    return _publish(home, instance_for(home), log_level, survey_id, {"started_by": "survey run", **(tags or {})})
