"""The fixed cost under ``survey run`` on the bundled sample: what any refresh pays before its steps work.

A cold process that imports what a real ``survey run`` imports (the command, Dagster and its storage, the
assets, statsmodels, matplotlib, xlsxwriter), creates a new home's Dagster instance, and makes the same
runs with the same steps, asset checks and partitions as the runner does for the sample's surveys and waves (survey by
survey: the dimensions with a survey's first wave, its publication with its last), except that every step does
nothing. What a refresh of the sample costs beyond this is the pipeline's own work.

Run as ``python -m benchmarks.dagster_floor HOME WAVES...`` (the number of waves of each survey); prints, as JSON, the seconds from the start of
the module to the end of the imports, of the instance's creation and of the runs, and the number of
top-level packages loaded (to compare with a real run's).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402  (the imports are timed from STARTED)
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import dagster as dg  # noqa: E402
import statsmodels.stats.proportion  # noqa: F401  the steps' statistics

import publish.brief  # noqa: F401  matplotlib, imported by the pack step
import publish.pack  # noqa: F401  xlsxwriter
from home.settings import SurveyHome
from pipelines.cli import app  # noqa: F401  the command's own imports (typer, rich)
from pipelines.instance import instance_for
from pipelines.runner import ACROSS_WAVES_STEPS, WAVE_STEPS


def idle_copy(asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """An asset with the same key, partitions, dependencies and checks as ``asset`` that does no work."""
    checks = list(asset.check_specs)

    @dg.asset(key=asset.key, partitions_def=asset.partitions_def, deps=list(asset.asset_deps[asset.key]),
              check_specs=checks)
    def idle() -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={"rows": 0},
            check_results=[dg.AssetCheckResult(check_name=c.name, asset_key=c.asset_key, passed=True) for c in checks],
        )

    return idle


def main(home: Path, waves: list[int]) -> None:
    imported = time.perf_counter()
    instance = instance_for(SurveyHome(home))
    steps = [idle_copy(a) for a in WAVE_STEPS + ACROSS_WAVES_STEPS]
    wave_steps, across_steps = steps[: len(WAVE_STEPS)], steps[len(WAVE_STEPS):]
    job = dg.Definitions(
        assets=steps, jobs=[dg.define_asset_job("refresh_wave", executor_def=dg.in_process_executor)]
    ).resolve_job_def("refresh_wave")
    surveys = [[f"floor{survey}/{n}" for n in range(count)] for survey, count in enumerate(waves)]
    instance.add_dynamic_partitions(WAVE_STEPS[1].partitions_def.name, [k for keys in surveys for k in keys])
    created = time.perf_counter()
    for keys in surveys:  # as pipelines.runner: per survey, dimensions first, publication with the last
        for number, key in enumerate(keys):
            selection = (wave_steps if number == 0 else wave_steps[1:]) + (across_steps if number == len(keys) - 1 else [])
            result = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False,
                                            asset_selection=[a.key for a in selection],
                                            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
            if not result.success:
                raise SystemExit(f"floor run {key} failed")
    finished = time.perf_counter()
    print(json.dumps({
        "imports_s": round(imported - STARTED, 2),
        "instance_s": round(created - imported, 2),
        "runs_s": round(finished - created, 2),
        "runs": sum(waves),
        "steps": sum(sum(len(WAVE_STEPS) - (n > 0) for n in range(count)) + len(ACROSS_WAVES_STEPS) for count in waves),
        "top_level_packages": len({m.split(".")[0] for m in sys.modules}),
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]), [int(n) for n in sys.argv[2:]])
