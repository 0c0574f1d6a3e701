"""The `survey` command: run the pipeline, run the demo, query the analysts' warehouse, open the Dagster UI,
regenerate the sample.

Every command takes ``--home DIR`` (default ``$SURVEY_HOME`` or ``./survey_home``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.settings import HOME_ENV, PROJECT_ROOT, SurveyHome, default_home

app = typer.Typer(help="Survey data pipeline: landing folder → validation → DuckDB warehouse → indicators.",
                  no_args_is_help=True, add_completion=False)
console = Console()

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Survey home folder (default: $SURVEY_HOME or ./survey_home).")
]


def _home(home: Path | None) -> SurveyHome:
    return SurveyHome((home or default_home()).resolve())


LogLevelOption = Annotated[
    str, typer.Option("--log-level", help="Dagster console log level (DEBUG shows every event).")
]


def _run(home: SurveyHome, log_level: str, force: bool = False) -> bool:
    from pipelines.runner import run_landed_waves

    def waiting(holder: str) -> None:
        console.print(f"Waiting: {holder} is writing the working database; this run starts when it ends.",
                      soft_wrap=True)

    refresh = run_landed_waves(home, log_level=log_level.upper(), force=force, on_wait=waiting)
    for run_id in refresh.abandoned:
        console.print(f"Run {run_id[:8]} had been killed before it finished; marked failed.", soft_wrap=True)
    if not refresh.runs and not refresh.up_to_date:
        console.print(f"No wave in {home.landing_dir}: put files in <survey_id>/<wave_id>/ there.", soft_wrap=True)
    for key in refresh.up_to_date:
        console.print(f"{key}: up to date (published as landed; --force reloads it)", soft_wrap=True)
    for outcome in refresh.runs + ([refresh.publication] if refresh.publication else []):
        status = "[green]ok[/green]" if outcome.success else f"[red]FAILED[/red]: {outcome.error}"
        run = f" (run {outcome.run_id[:8]})" if outcome.run_id else ""
        # One line per wave however long the reason, so it can be grepped from logs.
        console.print(f"{outcome.partition_key}: {status}{run}", soft_wrap=True)
    if refresh.publication and refresh.success:
        console.print(f"Analysts' warehouse: {home.warehouse_path}", soft_wrap=True)
    return refresh.success


@contextmanager
def _working_database(home: SurveyHome):
    """The working database, read under the writer lock (for reports that need the quarantine)."""
    from warehouse.connection import connect
    from warehouse.writer_lock import writer_lock

    with writer_lock(home.writer_lock_path), connect(home.working_path, read_only=True) as con:
        yield con


def _print_tables(home: SurveyHome, survey_id: str, wave_id: str) -> None:
    from pipelines.report import headline_rich_table, trend_rich_table
    from warehouse.reports import headline_table, headline_trends, loaded_waves

    codebook = home.codebook(survey_id)
    synthetic = " [SYNTHETIC DATA]" if codebook.wave(wave_id).synthetic else ""
    with _working_database(home) as con:
        table = headline_table(con, survey_id, wave_id)
        trends = headline_trends(con, survey_id)
        waves = loaded_waves(con, survey_id)
    console.print(headline_rich_table(table, f"Headline indicators, {survey_id} wave {wave_id}{synthetic}"))
    console.print(trend_rich_table(trends, waves, f"Trends, {survey_id}{synthetic}"))
    console.print(f"Analysts' warehouse (open it read-only): {home.warehouse_path}")


ForceOption = Annotated[bool, typer.Option("--force", help="Reload waves even if analysts already have them as landed.")]


@app.command()
def run(home: HomeOption = None, log_level: LogLevelOption = "WARNING", force: ForceOption = False) -> None:
    """Materialise every new or changed landed wave and everything downstream (indicators, trends), then
    publish the analysts' warehouse."""
    if not _run(_home(home), log_level, force):
        raise typer.Exit(code=1)


@app.command()
def demo(home: HomeOption = None, log_level: LogLevelOption = "WARNING") -> None:
    """Lay the bundled SYNTHETIC sample waves into the landing folder, run everything, print the tables."""
    from sample_data.generator import LANDING_DIR

    survey_home = _home(home)
    for source in sorted(LANDING_DIR.rglob("*.csv")):
        target = survey_home.landing_dir / source.relative_to(LANDING_DIR)
        if not target.exists() or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    console.print(f"Sample waves (synthetic) landed in {survey_home.landing_dir}")
    ok = _run(survey_home, log_level)
    _print_tables(survey_home, "improvement-journey", "2023")
    if not ok:
        raise typer.Exit(code=1)


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The export to load.")],
    survey: Annotated[str, typer.Option("--survey", help="Survey id (its codebook).")],
    wave: Annotated[str, typer.Option("--wave", help="Wave id, as declared in the codebook.")],
    layout: Annotated[str | None, typer.Option(help="Name the layout instead of detecting it.")] = None,
    home: HomeOption = None,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Land FILE as the wave's export, load that wave and everything downstream, and report."""
    from pipelines.ingest import WaveFileRejected, land_file, partition_key
    from pipelines.runner import run_landed_waves
    from pipelines.settings import DEFAULT_MAX_FILE_MB, MAX_FILE_MB_ENV
    from warehouse.reports import load_report

    survey_home = _home(home)
    max_bytes = int(os.environ.get(MAX_FILE_MB_ENV, DEFAULT_MAX_FILE_MB)) * 1024 * 1024
    try:
        landing = land_file(survey_home, file.resolve(), survey, wave, layout=layout, max_bytes=max_bytes)
    except (WaveFileRejected, KeyError) as exc:
        console.print(f"REJECTED: {exc.args[0] if isinstance(exc, KeyError) else exc}", soft_wrap=True)
        raise typer.Exit(code=1) from None
    if landing.outcome == "already_landed":
        console.print(f"Already landed: {file.name} has the same content as {landing.same_as} in wave {wave}; "
                      "nothing new to load.", soft_wrap=True)
        return
    for old in landing.replaced:
        console.print(f"Replaced {old.name} (kept in {old.parent})", soft_wrap=True)
    key = partition_key(survey, wave)
    refresh = run_landed_waves(survey_home, log_level=log_level.upper(), only=key, force=True)
    outcome, failure = refresh.runs[0], refresh.first_failure
    if failure is not None:
        # Past the load step the wave is in the working database; only what comes after it failed.
        loaded = failure is refresh.publication or not (failure.error or "").startswith(
            ("step wave_responses", "blocking check failed"))
        console.print(f"{'LOADED, THEN FAILED' if loaded else 'REJECTED'}: {failure.error}", soft_wrap=True)
        raise typer.Exit(code=1)
    with _working_database(survey_home) as con:
        report = load_report(con, survey, wave, outcome.run_id)
    for row in report["files"].itertuples(index=False):
        console.print(f"{row.source_file}: layout {row.layout}; {row.rows_read} rows read, {row.rows_loaded} loaded, "
                      f"{row.rows_quarantined} quarantined", soft_wrap=True)
    for rule, rows in report["quarantined_by_rule"]:
        console.print(f"  quarantined for {rule}: {rows} rows", soft_wrap=True)
    console.print(
        f"Analysts' warehouse: {survey_home.warehouse_path}\n"
        f"Quarantined rows, with their values, are in the working database {survey_home.working_path} "
        f"(table quarantine, run_id '{outcome.run_id}'); analysts see them counted in quarantine_counts.",
        soft_wrap=True)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One reading statement: SELECT, DESCRIBE, SHOW, SUMMARIZE, ...")],
    home: HomeOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run a read-only query against the analysts' warehouse and print the result."""
    from warehouse.analyst_queries import FORMATS, QueryRefused, run_query

    if fmt not in FORMATS:
        console.print(f"REFUSED: unknown format {fmt!r}; use one of {', '.join(FORMATS)}", soft_wrap=True)
        raise typer.Exit(code=2)
    import duckdb

    try:
        result = run_query(_home(home).warehouse_path, query)
    except QueryRefused as exc:
        console.print(f"REFUSED: {exc}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    except (FileNotFoundError, duckdb.Error) as exc:
        console.print(f"SQL ERROR: {exc}", soft_wrap=True, markup=False)
        raise typer.Exit(code=1) from None
    # Plain stdout rather than rich, so that CSV and JSON can be piped.
    typer.echo(result.render(fmt))


@app.command()
def dictionary() -> None:
    """Print the analysts' data dictionary (markdown): every published table and column."""
    from warehouse.dictionary import markdown

    typer.echo(markdown(), nl=False)


@app.command()
def dev(
    home: HomeOption = None,
    port: Annotated[int, typer.Option("--port", help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Open the Dagster UI (`dg dev`) on the home's instance, with the landing sensor running. Ctrl-C,
    SIGTERM or SIGHUP stops it and every process it started."""
    from pipelines.instance import prepare_dagster_home
    from pipelines.processes import run_until_stopped

    survey_home = _home(home)
    env = {
        **os.environ,
        HOME_ENV: str(survey_home.root),
        "DAGSTER_HOME": prepare_dagster_home(survey_home),
        "VIRTUAL_ENV": sys.prefix,  # the venv `survey` runs from, whether or not it was activated
    }
    dg_command = Path(sys.executable).with_name("dg")
    command = [str(dg_command) if dg_command.exists() else "dg", "dev", "--port", str(port)]
    raise typer.Exit(run_until_stopped(command, cwd=PROJECT_ROOT, env=env))


@app.command("sample")
def regenerate_sample(
    out: Annotated[Path, typer.Option(help="Landing folder to write into.")] = Path("sample_data/landing"),
) -> None:
    """Regenerate the bundled SYNTHETIC sample waves from the codebook and the calibration targets."""
    from sample_data.generator import write_bundled_sample
    from schemas.codebook import BUNDLED_CODEBOOKS_DIR, load_codebook
    from schemas.reference import load_trusts

    codebook = load_codebook(BUNDLED_CODEBOOKS_DIR / "improvement-journey.yaml")
    for path in write_bundled_sample(codebook, load_trusts()["ods_code"].tolist(), out):
        console.print(f"wrote {path}")


def main() -> None:
    from schemas.codebook import CodebookError

    try:
        app()
    except CodebookError as exc:  # a person's YAML, not a bug: one line, no traceback
        console.print(f"CODEBOOK ERROR: {exc}", soft_wrap=True)
        raise SystemExit(2) from None
