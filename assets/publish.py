"""Publishing: the analysts' read-only warehouse and the leadership pack, refreshed after every change
to the indicators or trends."""

import dagster as dg

from assets.constants import GROUP_PUBLISH, PUBLISHED_WAVES_METADATA
from assets.indicators import indicator_breakdowns, indicator_trends
from assets.partitions import surveys_of_run
from assets.progress import report
from assets.resources import SurveyHomeResource
from home.landing import partition_key
from home.settings import PROJECT_ROOT
from publish.pack import PACK_FILES, PATHS_RELATIVE_TO, Pack, code_version, headline_markdown, write_pack
from warehouse.benchmarks import benchmark_waves_loaded_before
from warehouse.combined_publication import combine_snapshots
from warehouse.ducklake_publication import DuckLakeFailed, publish_to_ducklake
from warehouse.parquet_publication import PARQUET_FOLDER, publish_parquet
from warehouse.publication import PublishFailed, publish_snapshot, published_inputs
from warehouse.writer_lock import writer_lock

PUBLISH_DEPS = dict(deps=[indicator_trends, indicator_breakdowns], group_name=GROUP_PUBLISH)


def _code_version_text() -> str:
    version = code_version(PROJECT_ROOT)
    commit = version["git_commit"]
    return f"survey-pipeline {version['package']}" + (f" (git {commit[:12]})" if commit else "")


@dg.asset(**PUBLISH_DEPS, kinds={"duckdb", "parquet"})
def analyst_warehouse(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """The read-only warehouse analysts query, `<home>/warehouse/survey.duckdb`, every survey in one file:
    respondents, closed answers, dimensions, indicators, breakdowns, trends, the load log and quarantine counts
    (no free text, no refused values), views for cross-tabulations, a comment on every table, view and column
    and a `publications` record; in a storage format older DuckDB clients read.
    Refreshed per survey (the run's survey; every survey when it names none): the survey's snapshot
    `<home>/warehouse/surveys/<survey_id>.duckdb`, a copy of its working database without the bookkeeping, then
    the warehouse combined from every survey's snapshot; each made beside the old file and renamed over it in
    one step, so open connections keep working and two surveys publishing together keep both updates. The same
    rows as hive-partitioned Parquet in `<home>/warehouse/parquet/<table>/survey_id=.../wave_id=.../data.parquet`,
    each file replaced in one step; and, where the settings name a DuckLake (a prototype), the survey's schema in
    it replaced in one transaction."""
    paths, settings = survey_home.paths, survey_home.settings
    codebooks = paths.codebooks
    lake_rows: dict[str, int] = {}
    target, parquet_root = paths.warehouse_path, paths.warehouse_path.parent / PARQUET_FOLDER
    rows: dict[str, int] = {}
    published: dict[str, str | None] = {}
    parquet_rows = 0

    def combine(survey_id: str) -> None:  # under the publication lock, held for the combining only
        nonlocal rows
        with writer_lock(paths.publication_lock_path):
            # Every survey's snapshot, a survey whose codebook cannot be read now included (without its views); a
            # survey not yet published by this release (a home just split) kept as analysts have it.
            parts = sorted(paths.snapshots_dir.glob("*.duckdb"))
            carried = [s for s in paths.surveys_with_working_database() if not paths.snapshot_path(s).is_file()]
            shown = sorted({p.stem for p in parts} | set(carried))
            rows = combine_snapshots(parts, target, [codebooks[s] for s in shown if s in codebooks],
                                     context.run.run_id, survey_home.duckdb_memory_mb,
                                     fresh=paths.snapshot_path(survey_id), carried=carried)

    for survey_id in surveys_of_run(context, list(codebooks)):
        report(survey_id, "publishing the analysts' warehouse")
        with survey_home.warehouse(survey_id, context.log, rebuild=True) as con:  # the copy holds no deleted row
            if backfilled := benchmark_waves_loaded_before(con, {survey_id: codebooks[survey_id]}):
                context.log.info("Trust benchmarks computed for waves loaded before benchmarking: %s", ", ".join(backfilled))
            snapshot = paths.snapshot_path(survey_id)
            try:
                publish_snapshot(con, snapshot, context.run.run_id, _code_version_text(), [codebooks[survey_id]],
                                 then=lambda: combine(survey_id))
            except PublishFailed as exc:
                raise dg.Failure(description=str(exc)) from None
            published |= {partition_key(*wave): inputs for wave, inputs in published_inputs(con).items()}
            # The same rows as Parquet, for engines and machines beyond DuckDB, still under the survey's lock.
            parquet_rows += sum(publish_parquet(snapshot, parquet_root, survey_id, survey_home.duckdb_memory_mb).values())
            if settings.ducklake:
                try:
                    lake = publish_to_ducklake(snapshot, survey_id, settings.ducklake_python,
                                               settings.ducklake_catalog.get_secret_value(), settings.ducklake_data_path,
                                               keep_days=settings.ducklake_keep_days)
                except DuckLakeFailed as exc:  # the DuckDB warehouse and the Parquet are published; the lake lags
                    raise dg.Failure(description=f"{exc}; the analysts' DuckDB warehouse and Parquet are published, "
                                     "and the next publication of the survey replaces it in the lake") from None
                lake_rows[survey_id] = sum(lake["rows"].values())
                context.log.info("%s published into the DuckLake in %.1f s (%d attempts): respondents and answers of "
                                 "waves written again: %s; of waves removed: %s; tables written whole: %d",
                                 survey_id, lake["seconds"], lake["attempts"],
                                 ", ".join(lake["waves_written_again"]) or "none",
                                 ", ".join(lake["waves_removed"]) or "none", len(lake["tables_written_whole"]))
                if lake.get("expiry_failed"):  # the survey is published; the space is reclaimed at a later publication
                    context.log.warning("the DuckLake's old snapshots were not expired: %s", lake["expiry_failed"])
    table = "\n".join(["| table | rows |", "|---|---|"] + [f"| {name} | {n} |" for name, n in rows.items()])
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "size_bytes": target.stat().st_size if target.exists() else 0,
            "tables": dg.MetadataValue.md(table),
            "dagster/row_count": sum(rows.values()),
            PUBLISHED_WAVES_METADATA: dg.MetadataValue.json(published),
            "parquet": dg.MetadataValue.path(str(parquet_root)),
            "parquet_rows_written": parquet_rows,
            **({"ducklake_rows": dg.MetadataValue.json(lake_rows)} if settings.ducklake else {}),
        }
    )


@dg.asset(**PUBLISH_DEPS, kinds={"excel", "html", "csv", "json"})
def leadership_pack(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """What leadership receives, for the latest loaded wave of each survey the run refreshes, in
    `<home>/publish/<survey_id>/<wave_id>/` (`survey pack S W` writes any other loaded wave's):

    - `brief.html`, the one-page brief: findings under the codebook's report sections, each figure with
      its base, a chart per section, changes only where significant; self-contained;
    - `brief.pdf`, the brief printed to one A4 page by headless Chromium (where none is installed, or
      `SURVEY_BRIEF_PDF` is false, the manifest says so and the run still succeeds);
    - `leadership_pack.xlsx`, the Excel workbook: contents, headline table, trends with a chart per section,
      breakdowns by trust type and by region, notes; labels, bases and print set-up on every sheet;
    - `headline_indicators.csv` and `indicator_trends.csv`, with labels beside ids and a `synthetic` column;
    - `README.txt`, what each file is; `manifest.json`: each file's sha256, the input files behind the
      figures and their archived copies, the codebook and code versions, this run (paths relative to the home).

    Aggregates only; text cells neutralised against formula injection. The materialisation lists the files
    written for each survey and wave, relative to the home, and previews the headline table."""
    packs = []
    codebooks = survey_home.paths.codebooks
    for survey_id in surveys_of_run(context, list(codebooks)):
        report(survey_id, "writing the leadership pack")
        with survey_home.warehouse(survey_id, context.log) as con:
            if con.execute("select count(*) from headline_indicators where survey_id = ?", [survey_id]).fetchall()[0][0]:
                packs.append(write_pack(con, codebooks[survey_id], survey_home.paths.root, context.run.run_id,
                                        PROJECT_ROOT, print_pdf=survey_home.brief_pdf))
    return dg.MaterializeResult(metadata=pack_metadata(packs))


def pack_metadata(packs: list[Pack]) -> dict:
    """The leadership pack's materialisation metadata: which survey and wave, the files written (relative
    to the home) and a preview of each headline table."""
    if not packs:
        return {"packs": "none: no survey has a loaded wave"}
    files = ["| survey | wave | file | what it is |", "|---|---|---|---|"] + [
        f"| {pack.survey_id} | {pack.wave_id} | `{path}` | {PACK_FILES[name]} |"
        for pack in packs for name, path in pack.files.items()
    ]
    headline = "\n\n".join(f"**{pack.survey_id}, wave {pack.wave_id}**\n\n{headline_markdown(pack.headline)}"
                            for pack in packs)
    return {
        "packs": ", ".join(f"{pack.survey_id} wave {pack.wave_id}" for pack in packs),
        "folders": dg.MetadataValue.json({f"{pack.survey_id}/{pack.wave_id}": pack.folder for pack in packs}),
        "paths_relative_to": PATHS_RELATIVE_TO,
        "files": dg.MetadataValue.md("\n".join(files)),
        "headline_indicators": dg.MetadataValue.md(headline),
        "dagster/row_count": sum(len(pack.headline) for pack in packs),
    }
