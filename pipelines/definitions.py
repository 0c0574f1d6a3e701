"""The Dagster code location: every asset, job, sensor, schedule and resource of the pipeline.

Loading these definitions reads no data and opens no database. It is an entry point: the settings are
read here (``home.settings.load_settings``) when not given, and passed down to the resource.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.dimensions import survey_dimensions
from assets.indicators import headline_indicators, indicator_breakdowns, indicator_trends
from assets.ingest import wave_responses
from assets.publish import analyst_warehouse, leadership_pack
from assets.resources import SurveyHomeResource
from home.settings import DUCKLAKE_CATALOG_ENV, RESPONDENT_KEY_ENV, Settings, load_settings
from pipelines.jobs import refresh_wave_job
from pipelines.sensors import daily_landing_sweep, landing_sensor

ASSETS = [survey_dimensions, wave_responses, headline_indicators, indicator_breakdowns, indicator_trends, analyst_warehouse, leadership_pack]


def build_definitions(home: Path | str | None = None, settings: Settings | None = None) -> dg.Definitions:
    """Definitions for one survey home (the settings' home, ``$SURVEY_HOME`` or ``./survey_home``, when
    not given); ``settings`` are read from the environment when not given (a respondent key in them is
    taken to be ``$SURVEY_RESPONDENT_KEY``'s, which Dagster reads as a secret when the resource starts)."""
    settings = settings or load_settings()
    return dg.Definitions(
        assets=ASSETS,
        jobs=[refresh_wave_job],
        sensors=[landing_sensor],
        schedules=[daily_landing_sweep],
        resources={
            "survey_home": SurveyHomeResource(
                home=str(Path(home or settings.home).resolve()),
                max_file_mb=settings.max_file_mb,
                duckdb_memory_mb=settings.duckdb_memory_mb,
                settle_seconds=settings.settle_seconds,
                encoding_error_rows=settings.encoding_error_rows,
                encoding_error_share=settings.encoding_error_share,
                brief_pdf=settings.brief_pdf,
                # Dagster config, which the UI shows, names the variable the settings checked, not the key.
                respondent_key=dg.EnvVar(RESPONDENT_KEY_ENV) if settings.respondent_key is not None else None,
                ducklake_catalog=dg.EnvVar(DUCKLAKE_CATALOG_ENV) if settings.ducklake else None,
                ducklake_data_path=str(settings.ducklake_data_path) if settings.ducklake else None,
                ducklake_python=str(settings.ducklake_python) if settings.ducklake else None,
                ducklake_keep_days=settings.ducklake_keep_days if settings.ducklake else None,
            )
        },
    )


defs = build_definitions()
