"""One dynamic partition per delivered wave, keyed ``<survey_id>/<wave_id>``; the landing sensor adds them. And
which surveys a run refreshes: a wave's run refreshes its own survey only, so two surveys' runs never share a
working database."""

import dagster as dg

from assets.constants import SURVEY_TAG, WAVE_PARTITIONS
from home.landing import split_partition_key

wave_partitions = dg.DynamicPartitionsDefinition(name=WAVE_PARTITIONS)
PARTITION_TAG = "dagster/partition"


def surveys_of_run(context: dg.AssetExecutionContext, surveys: list[str]) -> list[str]:
    """The surveys, of ``surveys`` (those with a usable codebook), that a step spanning waves refreshes in this
    run: the run's own survey (its ``survey_id`` tag, else its partition's survey), or every one when the run has
    neither (materialised from the UI without a partition), each then under its own writer lock in turn."""
    tags = context.run.tags
    survey = tags.get(SURVEY_TAG) or (split_partition_key(tags[PARTITION_TAG])[0] if PARTITION_TAG in tags else None)
    if survey is None:
        return sorted(surveys)
    return [survey] if survey in surveys else []
