"""Where a measured command spent its time: each Dagster step's seconds, read from the home's own instance
once the command has ended, so that a ratio over its target says which part is over.

The steps fall in three parts: the wave's data path (validating and loading the wave, the dimensions, the
indicators, breakdowns and trends), the analysts' warehouse (the snapshot, the combined file, the Parquet
files) and the leadership pack (the workbook, the brief and the trust pages, printed by Chromium); what is
left of the wall time is outside the steps (imports, Dagster's instance, the run's own records).

What does not belong here: running or timing the command (``benchmarks.run``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import dagster as dg

from assets.publish import analyst_warehouse, leadership_pack
from home.settings import SurveyHome

DATA_PATH = "data path"
WAREHOUSE = "analysts' warehouse"
PACK = "pack"
OUTSIDE = "outside the steps"
PARTS = (DATA_PATH, WAREHOUSE, PACK, OUTSIDE)
PART_OF_STEP = {analyst_warehouse.op.name: WAREHOUSE, leadership_pack.op.name: PACK}  # every other step: the data path


def run_ids(home_root: Path) -> set[str]:
    """The runs the home's instance holds (none for a home with no instance yet)."""
    dagster_home = SurveyHome(home_root).dagster_home
    if not dagster_home.is_dir():
        return set()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return {run.run_id for run in instance.get_runs()}


def step_seconds(home_root: Path, earlier_runs: set[str] = frozenset()) -> dict[str, float]:
    """Each step's seconds in the runs the home's instance holds but ``earlier_runs`` (a step run twice counts
    twice)."""
    seconds: dict[str, float] = defaultdict(float)
    with dg.DagsterInstance.from_config(str(SurveyHome(home_root).dagster_home)) as instance:
        for run in (r for r in instance.get_runs() if r.run_id not in earlier_runs):
            for step in instance.get_run_step_stats(run.run_id):
                if step.start_time is not None and step.end_time is not None:
                    seconds[step.step_key] += step.end_time - step.start_time
    return dict(seconds)


def parts(wall_s: float, steps: dict[str, float]) -> dict[str, float]:
    """A command's wall time split into ``PARTS``: what is not in a step is outside the steps."""
    split = dict.fromkeys(PARTS, 0.0)
    for step, seconds in steps.items():
        split[PART_OF_STEP.get(step, DATA_PATH)] += seconds
    split[OUTSIDE] = wall_s - sum(steps.values())
    return split
