"""The run queue of the home's Dagster instance: Dagster's queued run coordinator, naming each run's survey.

The queue lets one run per survey out at a time by the run tag ``survey_id`` (``dagster.yaml``). The sensor and
`survey run` tag their runs, but a run launched from the UI (one partition materialised by hand, or a backfill)
carries only its partition (``dagster/partition``, ``<survey_id>/<wave_id>``). So every run is given its survey's
tag from its partition as it is queued, however it was launched; a run without a partition is left as it is (it
refreshes every survey, each under its writer lock). What does not belong here: the limits themselves
(``dagster.yaml``).
"""

from __future__ import annotations

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext

from assets.constants import SURVEY_TAG
from assets.partitions import survey_of_tags


def with_survey_tag(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRun:
    """The run, given the ``survey_id`` tag of its partition's survey where it has a wave's partition and no such tag."""
    survey_id = survey_of_tags(run.tags)
    if survey_id is None or SURVEY_TAG in run.tags:
        return run
    instance.add_run_tags(run.run_id, {SURVEY_TAG: survey_id})
    return instance.get_run_by_id(run.run_id)


class SurveyRunCoordinator(QueuedRunCoordinator):
    """Queued runs, each tagged with the survey of its partition before it is queued."""

    def submit_run(self, context: SubmitRunContext) -> dg.DagsterRun:
        run = with_survey_tag(self._instance, context.dagster_run)
        return super().submit_run(SubmitRunContext(run, context.workspace))
