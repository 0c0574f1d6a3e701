"""What the `survey` command prints: its console, the progress bar shown on a terminal, the line printed
while waiting for the writer lock, and the outcome of a refresh, one line per wave (so it greps from logs).

What does not belong here: the commands and their options (``pipelines.cli``), running anything
(``pipelines.runner``), or the tables of indicators (``pipelines.report``).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from rich.console import Console

from home.settings import SurveyHome

console = Console()


@contextmanager
def progress():
    """Show the stage each wave reaches, with rows done, on a terminal only (CI and cron logs stay as
    they were); the line goes when the command ends, leaving the one-line summaries."""
    from assets.progress import reporting

    if not console.is_terminal:
        with reporting(None):
            yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    # Dagster points file descriptor 1 at its compute-log capture while a step runs; a copy of the
    # descriptor taken now still reaches the terminal.
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", errors="replace")
    with terminal, Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                            console=Console(file=terminal, force_terminal=True), transient=True,
                            redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task("starting")

        def show(what: str, stage: str, rows: int | None) -> None:
            bar.update(task, description=f"{what}: {stage}" + (f", {rows:,} rows" if rows is not None else ""))
            bar.refresh()  # a stage may end before the next timed refresh

        global _say
        _say = bar.console.print  # printed above the bar, not through it
        try:
            with reporting(show):
                yield
        finally:
            _say = console.print


_say = console.print  # where a line goes while a command runs: above its progress bar, if it shows one


def waiting(holder: str) -> None:
    _say(f"Waiting: {holder} is writing the working database; this command starts when it ends.", soft_wrap=True)


def report_refresh(home: SurveyHome, refresh) -> None:
    """The outcome of a refresh, one line per wave (so it can be grepped from logs)."""
    for run_id in refresh.abandoned:
        console.print(f"Run {run_id[:8]} had been killed before it finished; marked failed.", soft_wrap=True)
    for line in refresh.recovered:
        console.print(line, soft_wrap=True)
    for key in refresh.withdrawn:
        console.print(f"{key}: withdrawn (its landing folder is gone; its rows and files are archived)", soft_wrap=True)
    for key in refresh.missing:
        if key in refresh.prune_refused:
            console.print(f"{key}: MISSING, NOT WITHDRAWN: {refresh.prune_refused[key]}; it stays published.",
                          soft_wrap=True)
        elif key not in refresh.withdrawn:
            console.print(f"{key}: MISSING: in the warehouse, but its landing folder is gone (an unmounted "
                          "volume?); it stays published. `survey run --prune` withdraws it.", soft_wrap=True)
    for key, names in refresh.settling.items():
        console.print(f"{key}: not read yet: {', '.join(names)} changed in the last {home.settings.settle_seconds:g} s "
                      "(still being copied?); it is read once it stops changing (the sensor, or `survey run` again)",
                      soft_wrap=True)
    if not refresh.runs and not refresh.up_to_date and not refresh.missing and not refresh.settling:
        console.print(f"No wave in {home.landing_dir}: put files in <survey_id>/<wave_id>/ there.", soft_wrap=True)
    for key in refresh.up_to_date:
        console.print(f"{key}: up to date (published as landed; --force reloads it)", soft_wrap=True)
    for outcome in refresh.runs + refresh.publications:
        status = "[green]ok[/green]" if outcome.success else f"[red]FAILED[/red]: {outcome.error}"
        run = f" (run {outcome.run_id[:8]})" if outcome.run_id else ""
        changed = outcome.figures_changed
        changes = (f"; published figures that change: {changed} (headline_indicators' figure_changes in the UI)"
                   if changed else "")
        warned = f"; warnings: {', '.join(outcome.warnings)} (its check in the UI)" if outcome.warnings else ""
        again = f"; loaded again: {outcome.loaded_again}" if outcome.loaded_again else ""
        # One line per wave however long the reason, so it can be grepped from logs.
        console.print(f"{outcome.partition_key}: {status}{run}{changes}{warned}{again}", soft_wrap=True)
    if refresh.publications and refresh.success:
        console.print(f"Analysts' warehouse: {home.warehouse_path}", soft_wrap=True)
