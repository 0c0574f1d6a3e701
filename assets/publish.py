"""Publishing: the analysts' read-only warehouse and the leadership pack, refreshed after every change
to the indicators or trends."""

import dagster as dg

from assets.constants import DUCKDB_POOL, GROUP_PUBLISH, PUBLISHED_WAVES_METADATA
from assets.indicators import indicator_breakdowns, indicator_trends
from assets.progress import report
from assets.resources import SurveyHomeResource
from home.landing import partition_key
from home.settings import PROJECT_ROOT
from publish.pack import PACK_FILES, PATHS_RELATIVE_TO, Pack, code_version, headline_markdown, write_pack
from warehouse.benchmarks import benchmark_waves_loaded_before
from warehouse.parquet_publication import PARQUET_FOLDER, publish_parquet
from warehouse.publication import PublishFailed, publish_snapshot, published_inputs

PUBLISH_DEPS = dict(deps=[indicator_trends, indicator_breakdowns], group_name=GROUP_PUBLISH, pool=DUCKDB_POOL)


def _code_version_text() -> str:
    version = code_version(PROJECT_ROOT)
    commit = version["git_commit"]
    return f"survey-pipeline {version['package']}" + (f" (git {commit[:12]})" if commit else "")


@dg.asset(**PUBLISH_DEPS, kinds={"duckdb", "parquet"})
def analyst_warehouse(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """The read-only warehouse analysts query, `<home>/warehouse/survey.duckdb`: respondents, closed
    answers, dimensions, indicators, breakdowns, trends, the load log and quarantine counts (no free
    text, no refused values), views for cross-tabulations, a comment on every table, view and column and
    a `publications` record; in a storage format older DuckDB clients read.
    A copy of the working database without its bookkeeping, made beside the old file and renamed over it
    in one step, so open connections keep working. The same rows as hive-partitioned Parquet in
    `<home>/warehouse/parquet/<table>/survey_id=.../wave_id=.../data.parquet`, each file replaced in one step."""
    target = survey_home.paths.warehouse_path
    report("all waves", "publishing the analysts' warehouse")
    with survey_home.warehouse(context.log, rebuild=True) as con:  # the copy holds no deleted row
        codebooks = survey_home.paths.codebooks
        if backfilled := benchmark_waves_loaded_before(con, codebooks):
            context.log.info("Trust benchmarks computed for waves loaded before benchmarking: %s", ", ".join(backfilled))
        try:
            snapshot = publish_snapshot(con, target, context.run.run_id, _code_version_text(),
                                        survey_home.paths.codebooks.values())
        except PublishFailed as exc:
            raise dg.Failure(description=str(exc)) from None
        published = {partition_key(*wave): inputs for wave, inputs in published_inputs(con).items()}
        # The same rows as Parquet, for engines and machines beyond DuckDB, still under the writer lock.
        parquet = publish_parquet(target, survey_home.paths.warehouse_path.parent / PARQUET_FOLDER,
                                  survey_home.duckdb_memory_mb)
    rows = snapshot.rows
    table = "\n".join(["| table | rows |", "|---|---|"] + [f"| {name} | {n} |" for name, n in rows.items()])
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "size_bytes": target.stat().st_size,
            "tables": dg.MetadataValue.md(table),
            "dagster/row_count": sum(rows.values()),
            PUBLISHED_WAVES_METADATA: dg.MetadataValue.json(published),
            "parquet": dg.MetadataValue.path(str(survey_home.paths.warehouse_path.parent / PARQUET_FOLDER)),
            "parquet_rows_written": sum(parquet.values()),
        }
    )


@dg.asset(**PUBLISH_DEPS, kinds={"excel", "html", "csv", "json"})
def leadership_pack(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """What leadership receives, for the latest loaded wave of each survey, in
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
    report("all waves", "writing the leadership pack")
    with survey_home.warehouse(context.log) as con:
        for codebook in survey_home.paths.codebooks.values():
            if con.execute("select count(*) from headline_indicators where survey_id = ?",
                           [codebook.survey_id]).fetchall()[0][0]:
                packs.append(write_pack(con, codebook, survey_home.paths.root, context.run.run_id, PROJECT_ROOT,
                                        print_pdf=survey_home.brief_pdf))
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
