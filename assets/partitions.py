"""One dynamic partition per delivered wave, keyed ``<survey_id>/<wave_id>``; the landing sensor adds them."""

import dagster as dg

from assets.constants import WAVE_PARTITIONS

wave_partitions = dg.DynamicPartitionsDefinition(name=WAVE_PARTITIONS)
