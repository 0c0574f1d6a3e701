"""The `survey` command: run the pipeline, ingest a delivered file, manage waves, run the demo, query the
analysts' warehouse, open the Dagster UI, regenerate the sample.

Every command takes ``--home DIR`` (default ``$SURVEY_HOME`` or ``./survey_home``). The command is an entry
point: it reads the settings (``home.settings``) once and passes them down with the home. What it prints
while running (the progress bar, the outcome of a refresh) is ``pipelines.terminal``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from home.settings import HOME_ENV, MAX_FILE_MB_ENV, PROJECT_ROOT, Settings, SettingsError, SurveyHome, load_settings
from pipelines.terminal import console, progress, report_refresh, waiting

# An unexpected error prints no local variables: they can hold what a delivered file contains.
app = typer.Typer(help="Survey data pipeline: landing folder → validation → DuckDB warehouse → indicators.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Survey home folder (default: $SURVEY_HOME or ./survey_home).")
]


_settings = Settings.defaults()  # replaced by the environment's, read once as each command starts


@app.callback()
def _read_settings() -> None:
    """Read the settings once, before the command runs; a bad value ends it with one line."""
    global _settings
    try:
        _settings = load_settings()
    except SettingsError as exc:
        console.print(f"SETTINGS ERROR: {exc}", soft_wrap=True, markup=False, highlight=False)
        raise typer.Exit(code=2) from None


_command_home: SurveyHome | None = None  # the home of the command running, for its failure log


def _home(home: Path | None) -> SurveyHome:
    global _command_home
    root = (home or _settings.home).resolve()
    _command_home = SurveyHome(root, _settings.model_copy(update={"home": root}))
    return _command_home


# Dagster's console log prints each failed step with its stack trace; the command's own one-line summary per
# wave says what failed, and the full event log is in the home's instance (the UI). So by default the
# console shows no Dagster log line; --log-level INFO (or DEBUG, every event) shows them.
QUIET = "CRITICAL"
LogLevelOption = Annotated[
    str, typer.Option("--log-level", help="Dagster console log level: CRITICAL (default) prints only the "
                      "command's summary; ERROR, WARNING, INFO, DEBUG (every event) print Dagster's log too.")
]


def _run(home: SurveyHome, log_level: str, force: bool = False, prune: bool = False) -> bool:
    from pipelines.runner import run_landed_waves

    with progress():
        refresh = run_landed_waves(home, log_level=log_level.upper(), force=force, on_wait=waiting, prune=prune)
    report_refresh(home, refresh)
    return refresh.success


@contextmanager
def _working_database(home: SurveyHome, survey_id: str):
    """The survey's working database, read under its writer lock (for reports that need the quarantine)."""
    from warehouse.working_databases import working_database

    with working_database(home, survey_id, read_only=True) as con:
        yield con


def _print_tables(home: SurveyHome, survey_id: str, wave_id: str) -> None:
    from pipelines.report import headline_rich_table, trend_rich_table
    from warehouse.reports import headline_table, headline_trends, loaded_waves

    codebook = home.codebook(survey_id)
    synthetic = " [SYNTHETIC DATA]" if codebook.wave(wave_id).synthetic else ""
    with _working_database(home, survey_id) as con:
        table = headline_table(con, survey_id, wave_id)
        trends = headline_trends(con, survey_id)
        waves = loaded_waves(con, survey_id)
    weighted = " (weighted; bases unweighted)" if table["weighted"].any() else ""
    console.print(headline_rich_table(table, f"Headline indicators, {survey_id} wave {wave_id}{weighted}{synthetic}"))
    console.print(trend_rich_table(trends, waves, f"Trends, {survey_id}{weighted}{synthetic}"))
    console.print(f"Analysts' warehouse (open it read-only): {home.warehouse_path}")


ForceOption = Annotated[bool, typer.Option("--force", help="Reload waves even if analysts already have them as landed.")]
PruneOption = Annotated[bool, typer.Option(
    "--prune", help="Withdraw waves whose landing folder has gone (otherwise they are only reported).")]


@app.command()
def run(home: HomeOption = None, log_level: LogLevelOption = QUIET, force: ForceOption = False,
        prune: PruneOption = False) -> None:
    """Materialise every landed wave whose files, wave.yaml or codebook changed since analysts were last
    published, and everything downstream (indicators, trends), then publish the analysts' warehouse."""
    if not _run(_home(home), log_level, force, prune):
        raise typer.Exit(code=1)


@app.command()
def demo(home: HomeOption = None, log_level: LogLevelOption = QUIET) -> None:
    """Lay the bundled SYNTHETIC sample waves into the landing folder, run everything, print the tables."""
    from sample_data.generator import LANDING_DIR, sample_files

    survey_home = _home(home)
    for source in sample_files():  # exports, and the staff pulse's population files with their wave.yaml
        target = survey_home.landing_dir / source.relative_to(LANDING_DIR)
        if not target.exists() or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)  # with its time: a file landed whole, not one being copied
    console.print(f"Sample waves (synthetic) landed in {survey_home.landing_dir}")
    ok = _run(survey_home, log_level)
    # The board survey's first wave, whose figures are the published report's; the staff pulse's latest.
    for survey_id, wave_id in (("improvement-journey", "2023"), ("staff-pulse", "2026Q3")):
        _print_tables(survey_home, survey_id, wave_id)
    if not ok:
        raise typer.Exit(code=1)


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The export to load.")],
    survey: Annotated[str, typer.Option("--survey", help="Survey id (its codebook).")],
    wave: Annotated[str, typer.Option("--wave", help="Wave id: declared in the codebook, or by the dates below.")],
    fieldwork_start: Annotated[dt.datetime | None, typer.Option(
        "--fieldwork-start", formats=["%Y-%m-%d"], help="First day of fieldwork (declares a new wave).")] = None,
    fieldwork_end: Annotated[dt.datetime | None, typer.Option(
        "--fieldwork-end", formats=["%Y-%m-%d"], help="Last day of fieldwork (declares a new wave).")] = None,
    population_trusts: Annotated[int | None, typer.Option(
        "--population-trusts", min=1, help="Trusts invited, for trust coverage.")] = None,
    layout: Annotated[str | None, typer.Option(help="Name the layout instead of detecting it.")] = None,
    max_quarantined_share: Annotated[float | None, typer.Option(
        "--max-quarantined-share", min=0.01, max=1.0,
        help="Load this file even if up to this share of its rows is quarantined (default: refused over 0.5).")] = None,
    accept_times_outside_fieldwork: Annotated[bool, typer.Option(
        "--accept-times-outside-fieldwork",
        help="Load this file even if over a tenth of its submission times fall outside the fieldwork dates.")] = False,
    accept_files_of_other_waves: Annotated[bool, typer.Option(
        "--accept-files-of-other-waves",
        help="Load this file even if its bytes are those of a file loaded in another wave.")] = False,
    home: HomeOption = None,
    log_level: LogLevelOption = QUIET,
) -> None:
    """Land FILE as the wave's export, load that wave and everything downstream, and report.

    The dates and population are written into the wave's wave.yaml beside its files (merged into one
    already there), so a new wave needs no edit of the codebook. FILE is read once: it waits beside the
    landing folder and replaces the wave's files only once every file-level check passes; a refused file
    leaves the landing folder, wave.yaml included, exactly as it was."""
    from assets.ingest import wave_responses
    from exports import FILE_SUFFIXES
    from exports.base import not_a_regular_file
    from home.deliveries import merged_settings, recover_deliveries, settings_file, stage_delivery
    from home.landing import partition_key, wave_files
    from pipelines.runner import run_landed_waves
    from schemas.waves import WAVE_SETTINGS, WaveSettings, read_wave_settings
    from warehouse.connection import private_path
    from warehouse.reports import load_report
    from warehouse.working_databases import survey_writer_lock

    survey_home = _home(home)
    # Refused before a byte is copied: a file the landing folder would not hold as an export, or too large.
    if file.suffix.lower() not in FILE_SUFFIXES or file.name.startswith("."):
        console.print(f"REJECTED: {file.name}: not an export file: the name must end in "
                      f"{', '.join(FILE_SUFFIXES)} and not start with '.'", soft_wrap=True)
        raise typer.Exit(code=1)
    irregular = not_a_regular_file(file)
    if irregular:
        console.print(f"REJECTED: {file.name}: {irregular}", soft_wrap=True)
        raise typer.Exit(code=1)
    max_bytes = survey_home.settings.max_file_bytes
    if file.stat().st_size > max_bytes:
        console.print(f"REJECTED: {file.name}: the file is {file.stat().st_size:,} bytes, over the limit of "
                      f"{max_bytes:,} bytes ({MAX_FILE_MB_ENV})", soft_wrap=True)
        raise typer.Exit(code=1)
    key = partition_key(survey, wave)
    wave_dir = survey_home.wave_dir(survey, wave)
    with survey_writer_lock(survey_home, survey, on_wait=waiting):
        for line in recover_deliveries(survey_home.landing_dir, survey_home.archive_dir, survey):
            console.print(line, soft_wrap=True)
        settings_path = wave_dir / WAVE_SETTINGS
        current = read_wave_settings(settings_path) if settings_path.is_file() else None
        settings = merged_settings(current, {
            "fieldwork_start": fieldwork_start.date() if fieldwork_start else None,
            "fieldwork_end": fieldwork_end.date() if fieldwork_end else None,
            "population_trusts": population_trusts, "layout": layout,
            "max_quarantined_share": max_quarantined_share,
            "accept_times_outside_fieldwork": accept_times_outside_fieldwork or None,
            "accept_files_of_other_waves": accept_files_of_other_waves or None})
        try:  # the declaration is checked before anything is written
            survey_home.codebook_declaring(survey, wave, settings).wave(wave)
        except KeyError as exc:
            console.print(f"REJECTED: {exc.args[0]}", soft_wrap=True)
            raise typer.Exit(code=1) from None
        landed_before = [p.name for p in wave_files(wave_dir)] if wave_dir.is_dir() else []
        changed = settings != (current or WaveSettings())  # no wave.yaml is written to say nothing
        delivery = stage_delivery(file.resolve(), wave_dir, settings_file(settings, survey, wave) if changed else None)
        with progress():
            refresh = run_landed_waves(survey_home, log_level=log_level.upper(), only=key,
                                       force=bool(delivery.files), delivery=delivery)
        outcome = refresh.runs[0] if refresh.runs else None
        promoted = not delivery.pending_dir.exists()
        if not promoted:
            if outcome is None or outcome.loaded:
                delivery.commit()  # the same bytes were landed already; the load used the new wave.yaml
            else:
                delivery.roll_back()
    if current is not None and current.layout and not layout and (delivery.files or changed):
        console.print(f"{WAVE_SETTINGS}: `layout: {current.layout}` dropped, as it named the previous file's "
                      "layout; --layout names this one's", soft_wrap=True)
    accepted_now = {"max_quarantined_share": max_quarantined_share, "accept_times_outside_fieldwork": accept_times_outside_fieldwork,
                    "accept_files_of_other_waves": accept_files_of_other_waves}
    for name, given in accepted_now.items():
        before = getattr(current, name, None)
        if before and not given and (delivery.files or changed):
            console.print(f"{WAVE_SETTINGS}: `{name}: {before}` dropped, as it was accepted for the previous file; "
                          f"--{name.replace('_', '-')} accepts it for this one", soft_wrap=True)
    if outcome is None:
        console.print(f"Already landed: {file.name} has the same content as {delivery.same_as} in wave {wave}; "
                      "nothing new to load.", soft_wrap=True)
        return
    if promoted and landed_before:
        replaced = sorted((survey_home.archive_dir / survey / wave).glob("replaced-*"))[-1]
        console.print(f"Replaced {', '.join(landed_before)} (kept in {replaced.relative_to(survey_home.root)})",
                      soft_wrap=True)
    failure = refresh.first_failure
    if failure is not None:
        # Refused: the delivery was read and turned down before anything of it was loaded.
        refused = failure is outcome and not outcome.loaded and outcome.failed_step == wave_responses.key.path[-1]
        console.print(f"{'REJECTED' if refused else 'LOADED, THEN FAILED' if outcome.loaded else 'FAILED'}: "
                      f"{failure.error}", soft_wrap=True)
        raise typer.Exit(code=1)
    with _working_database(survey_home, survey) as con:
        report = load_report(con, survey, wave, outcome.run_id)
    for row in report["files"].itertuples(index=False):
        encoding = f", {row.encoding}" if isinstance(row.encoding, str) else ""
        console.print(f"{row.source_file}: layout {row.layout}{encoding}; {row.rows_read} rows read, {row.rows_loaded} loaded, "
                      f"{row.rows_quarantined} quarantined", soft_wrap=True)
    for rule, rows in report["quarantined_by_rule"]:
        console.print(f"  quarantined for {rule}: {rows} rows", soft_wrap=True)
    console.print(f"Analysts' warehouse: {survey_home.warehouse_path}", soft_wrap=True)
    if report["quarantined_by_rule"]:  # where to look, only when there is something to look at
        console.print(
            f"Quarantined rows, with their values, are in the working database's private file "
            f"{private_path(survey_home.working_path(survey))} (table quarantine, run_id '{outcome.run_id}'); analysts "
            "see them counted in quarantine_counts.",
            soft_wrap=True)


wave_app = typer.Typer(help="The waves of each survey: list them, withdraw one.", no_args_is_help=True)
app.add_typer(wave_app, name="wave")


@wave_app.command("list")
def wave_list(home: HomeOption = None) -> None:
    """Each wave, in fieldwork order: its status, where it is declared, its files and its last load."""
    from pipelines.waves import list_waves

    survey_home = _home(home)
    rows = list_waves(survey_home)
    for survey_id, error in survey_home.codebook_errors.items():
        console.print(f"{survey_id}: CODEBOOK ERROR: {error}", soft_wrap=True, markup=False, highlight=False)
    if not rows:
        console.print("No wave declared, landed or loaded.", soft_wrap=True)
    for row in rows:  # a block per wave: readable in a narrow terminal, and each line greps alone
        console.print(f"{row.survey_id}/{row.wave_id}: {row.status}", soft_wrap=True, markup=False, highlight=False)
        declared = f"declared in {row.declared_in}" + (f"; fieldwork {row.fieldwork}" if row.fieldwork else "")
        for line in (declared, f"files: {', '.join(row.files) or 'none'}", f"last load: {row.last_load or 'none'}"):
            console.print(f"  {line}", soft_wrap=True, markup=False, highlight=False)


@wave_app.command("remove")
def wave_remove(
    survey: Annotated[str, typer.Argument(help="Survey id.")],
    wave: Annotated[str, typer.Argument(help="Wave id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    home: HomeOption = None,
    log_level: LogLevelOption = QUIET,
) -> None:
    """Withdraw a wave loaded by mistake: its landing folder moves into the archive, its rows leave the
    warehouse, trends and the pack, and the removal is recorded in `wave_removals`. The file can then be
    landed again under the right wave."""
    from pipelines.runner import publish_across_waves
    from pipelines.waves import withdraw_wave
    from warehouse.working_databases import survey_writer_lock

    survey_home = _home(home)
    if not yes:
        if not sys.stdin.isatty():
            console.print("REFUSED: withdrawing a wave needs confirmation: add --yes", soft_wrap=True)
            raise typer.Exit(code=2)
        typer.confirm(f"Withdraw {survey}/{wave} from the warehouse and move its files into the archive?", abort=True)
    with survey_writer_lock(survey_home, survey, on_wait=waiting):
        try:
            withdrawal = withdraw_wave(survey_home, survey, wave, reason="withdrawn by `survey wave remove`")
        except LookupError as exc:
            console.print(f"REFUSED: {exc.args[0]}", soft_wrap=True)
            raise typer.Exit(code=1) from None
        publication = publish_across_waves(survey_home, survey, log_level.upper())
    console.print(f"{survey}/{wave}: withdrawn ({withdrawal.respondents} respondents); its files are in "
                  f"{withdrawal.archived_to}", soft_wrap=True)
    if not publication.success:
        console.print(f"Publishing without it FAILED: {publication.error}; `survey run` publishes again.", soft_wrap=True)
        raise typer.Exit(code=1)
    console.print(f"Analysts' warehouse published without it: {survey_home.warehouse_path}", soft_wrap=True)


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
def pack(
    survey: Annotated[str, typer.Argument(help="Survey id.")],
    wave: Annotated[str, typer.Argument(help="Wave id: any loaded wave, not only the latest.")],
    home: HomeOption = None,
) -> None:
    """Write the leadership pack of one loaded wave (workbook, brief in HTML and PDF, CSVs, README, manifest)
    into <home>/publish/<survey>/<wave>/, with the trends of the waves up to it. `survey run` writes the
    latest wave's pack by itself."""
    import json

    from publish.pack import MANIFEST, write_pack
    from warehouse.working_databases import split_shared_working_database

    survey_home = _home(home)
    try:
        codebook = survey_home.codebook(survey)
    except Exception as exc:  # noqa: BLE001 - the codebook's own fault, said in one line
        console.print(f"REFUSED: {exc.args[0] if isinstance(exc, KeyError) else exc}", soft_wrap=True, markup=False)
        raise typer.Exit(code=1) from None
    split_shared_working_database(survey_home)
    if not survey_home.working_path(survey).exists():
        console.print(f"REFUSED: nothing of {survey} is loaded in {survey_home.root}: run `survey run` first",
                      soft_wrap=True)
        raise typer.Exit(code=1)
    with _working_database(survey_home, survey) as con:
        try:
            written = write_pack(con, codebook, survey_home.root, run_id="survey pack", project_root=PROJECT_ROOT,
                                 wave_id=wave, print_pdf=survey_home.settings.brief_pdf)
        except ValueError as exc:
            console.print(f"REFUSED: {exc}", soft_wrap=True, markup=False)
            raise typer.Exit(code=1) from None
    pdf = json.loads((survey_home.root / written.folder / MANIFEST).read_text())["brief_pdf"]
    console.print(f"Pack of {survey}/{wave} written to {survey_home.root / written.folder}: "
                  f"{', '.join(written.files)}", soft_wrap=True, markup=False)
    if pdf["file"] is None:
        console.print(f"No brief.pdf: {pdf['why_not']}", soft_wrap=True, markup=False)


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
    from pipelines.instance import instance_for
    from pipelines.processes import run_until_stopped

    survey_home = _home(home)
    with instance_for(survey_home):  # prepared: its settings written before the daemon reads them
        pass
    env = {
        **os.environ,
        HOME_ENV: str(survey_home.root),
        "DAGSTER_HOME": str(survey_home.dagster_home),
        "VIRTUAL_ENV": sys.prefix,  # the venv `survey` runs from, whether or not it was activated
    }
    dg_command = Path(sys.executable).with_name("dg")
    command = [str(dg_command) if dg_command.exists() else "dg", "dev", "--port", str(port)]
    raise typer.Exit(run_until_stopped(command, cwd=PROJECT_ROOT, env=env))


@app.command("sample")
def regenerate_sample(
    out: Annotated[Path, typer.Option(help="Landing folder to write into.")] = Path("sample_data/landing"),
) -> None:
    """Regenerate the bundled SYNTHETIC sample waves of every bundled survey with calibration targets, from its
    codebook and targets (sample_data/targets/<survey>.yaml)."""
    from sample_data.generator import TARGETS_DIR, write_bundled_sample
    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
    from schemas.reference import load_trusts

    for targets in sorted(TARGETS_DIR.glob("*.yaml")):
        codebook = load_codebook(BUNDLED_CODEBOOKS_DIR / targets.name)
        for path in write_bundled_sample(codebook, load_trusts()["ods_code"].tolist(), out):
            console.print(f"wrote {path}")


def main() -> None:
    from schemas.codebook_files import CodebookError
    from schemas.waves import WaveDeclarationError

    try:
        app(standalone_mode=True)
    except (CodebookError, WaveDeclarationError) as exc:  # a person's YAML, not a bug: one line, no traceback
        what = "CODEBOOK ERROR" if isinstance(exc, CodebookError) else "WAVE DECLARATION ERROR"
        console.print(f"{what}: {exc}", soft_wrap=True, markup=False)
        raise SystemExit(2) from None
    except Exception as exc:  # noqa: BLE001 - unforeseen: one line, the traceback in a private log file
        from pipelines.crash_log import crash_line

        working = _command_home.working_dir if _command_home is not None else None
        try:
            console.print(crash_line(exc, _command_words(sys.argv[1:]), working), soft_wrap=True, markup=False,
                          highlight=False)
        except OSError:  # not even the terminal can be written
            pass
        raise SystemExit(1) from None


def _command_words(argv: list[str]) -> str:
    """The command and the file it was given, as the line names them: ``ingest export.csv``, ``run``."""
    command = next((a for a in argv if not a.startswith("-")), "survey")
    files = [Path(a).name for a in argv[argv.index(command) + 1:] if not a.startswith("-") and Path(a).is_file()]
    return " ".join([command, *files[:1]]) if command in argv else command
