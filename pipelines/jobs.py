"""Jobs: refreshing one wave and everything downstream of it."""

import dagster as dg

REFRESH_WAVE_JOB = "refresh_wave"

# In-process: the steps are short and share one DuckDB file, so a Python process per step (the
# multiprocess default) would cost more than the work itself.
refresh_wave_job = dg.define_asset_job(
    REFRESH_WAVE_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Validate and load one wave (partition <survey_id>/<wave_id>), then rebuild its "
    "indicators and the trends across waves.",
)
