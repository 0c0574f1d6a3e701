"""The warehouse's dimension tables, rebuilt from every codebook and the trust reference list."""

import dagster as dg

from assets.constants import DUCKDB_POOL, GROUP_DIMENSIONS
from assets.resources import SurveyHomeResource
from warehouse.dimensions import write_survey_dimensions, write_trusts


@dg.asset(group_name=GROUP_DIMENSIONS, kinds={"duckdb", "yaml"}, pool=DUCKDB_POOL)
def survey_dimensions(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """Waves, questions, options and the indicator catalogue of every survey's codebook, and the
    `trusts` reference list (ODS code, type, region), as warehouse tables."""
    codebooks = survey_home.paths.codebooks
    with survey_home.warehouse(context.log) as con:
        trust_rows = write_trusts(con, survey_home.trusts())
        written = {cb.survey_id: write_survey_dimensions(con, cb) for cb in codebooks.values()}
    lines = ["| survey | codebook version | waves | questions | options | indicators |", "|---|---|---|---|---|---|"]
    for survey_id, rows in written.items():
        lines.append(
            f"| {survey_id} | {codebooks[survey_id].version} | {rows['waves']} | {rows['questions']} "
            f"| {rows['options']} | {rows['indicators']} |"
        )
    context.log.info("Dimensions written for %s", ", ".join(written) or "no survey")
    return dg.MaterializeResult(
        metadata={
            "surveys": dg.MetadataValue.md("\n".join(lines)),
            "trusts": trust_rows,
            "dagster/row_count": trust_rows + sum(sum(r.values()) for r in written.values()),
        }
    )
