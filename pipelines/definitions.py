"""The Dagster code location: every asset, job, sensor, schedule and resource of the pipeline.

Loading these definitions reads no data and opens no database.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from assets.dimensions import survey_dimensions
from assets.indicators import headline_indicators, indicator_breakdowns, indicator_trends
from assets.ingest import wave_responses
from assets.publish import analyst_warehouse, leadership_pack
from assets.resources import SurveyHomeResource
from home.settings import DEFAULT_STAGE_FROM_MB, STAGE_FROM_MB_ENV, default_home, max_file_mb
from pipelines.jobs import refresh_wave_job
from pipelines.sensors import daily_landing_sweep, landing_sensor

ASSETS = [survey_dimensions, wave_responses, headline_indicators, indicator_breakdowns, indicator_trends, analyst_warehouse, leadership_pack]


def build_definitions(home: Path | str | None = None) -> dg.Definitions:
    """Definitions for one survey home (``$SURVEY_HOME`` or ``./survey_home`` when not given)."""
    return dg.Definitions(
        assets=ASSETS,
        jobs=[refresh_wave_job],
        sensors=[landing_sensor],
        schedules=[daily_landing_sweep],
        resources={
            "survey_home": SurveyHomeResource(
                home=str(Path(home or default_home()).resolve()),
                max_file_mb=max_file_mb(),
                stage_from_mb=float(os.environ.get(STAGE_FROM_MB_ENV, DEFAULT_STAGE_FROM_MB)),
            )
        },
    )


defs = build_definitions()
