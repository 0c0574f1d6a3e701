"""One dynamic partition per delivered wave, keyed ``<survey_id>/<wave_id>``; the landing sensor adds them. And
which surveys a run refreshes: a wave's run refreshes its own survey only, so two surveys' runs never share a
working database."""

import dagster as dg

from assets.constants import SURVEY_TAG, WAVE_PARTITIONS
from home.landing import split_partition_key

wave_partitions = dg.DynamicPartitionsDefinition(name=WAVE_PARTITIONS)
PARTITION_TAG = "dagster/partition"


def survey_of_tags(tags) -> str | None:
    """A run's survey by its tags: its ``survey_id`` tag, else its wave partition's survey; None for neither."""
    if SURVEY_TAG in tags:
        return tags[SURVEY_TAG]
    try:
        return split_partition_key(tags[PARTITION_TAG])[0] if tags.get(PARTITION_TAG) else None
    except ValueError:  # not a wave's partition
        return None


def surveys_of_run(context: dg.AssetExecutionContext, surveys: list[str]) -> list[str]:
    """The surveys, of ``surveys`` (those with a usable codebook), that a step spanning waves refreshes in this
    run: the run's own survey (``survey_of_tags``), or every one when the run has neither tag nor partition
    (materialised from the UI without a partition), each then under its own writer lock in turn."""
    survey = survey_of_tags(context.run.tags)
    if survey is None:
        return sorted(surveys)
    return [survey] if survey in surveys else []
