"""Publishing: the leadership pack, refreshed after every change to the indicators or trends."""

import dagster as dg

from assets.constants import DUCKDB_POOL, GROUP_PUBLISH
from assets.indicators import indicator_breakdowns, indicator_trends
from pipelines.resources import SurveyHomeResource
from pipelines.settings import PROJECT_ROOT
from publish.pack import write_pack
from warehouse.connection import connect


@dg.asset(deps=[indicator_trends, indicator_breakdowns], group_name=GROUP_PUBLISH, kinds={"csv", "json"}, pool=DUCKDB_POOL)
def leadership_pack(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """For each survey, the latest wave's headline table and the trend table across waves as CSV files,
    with a manifest of every file's sha256, the input files behind the figures, the codebook and code
    versions and this run, in `<home>/publish/<survey_id>/<wave_id>/`. Aggregates only; text cells
    neutralised against formula injection."""
    written = []
    with connect(survey_home.paths.warehouse_path, read_only=True) as con:
        for codebook in survey_home.paths.codebooks.values():
            if con.execute("select count(*) from headline_indicators where survey_id = ?",
                           [codebook.survey_id]).fetchall()[0][0]:
                written.append(write_pack(con, codebook, survey_home.paths.root / "publish",
                                          context.run.run_id, PROJECT_ROOT))
    return dg.MaterializeResult(metadata={"packs": dg.MetadataValue.md("\n".join(f"- {p}" for p in written) or "none")})
