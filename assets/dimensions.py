"""The warehouse's dimension tables, rebuilt from every codebook and the trust reference list."""

import dagster as dg

from assets.constants import CHECK_CODEBOOK_KEEPS_ANSWERS, DUCKDB_POOL, GROUP_DIMENSIONS
from assets.resources import SurveyHomeResource
from warehouse.admission import answers_the_codebook_drops
from warehouse.dimensions import write_survey_dimensions, write_trusts


@dg.asset(
    group_name=GROUP_DIMENSIONS, kinds={"duckdb", "yaml"}, pool=DUCKDB_POOL,
    check_specs=[dg.AssetCheckSpec(
        CHECK_CODEBOOK_KEEPS_ANSWERS, asset="survey_dimensions", blocking=True,
        description="Every question and option that a loaded wave was asked is still in its survey's codebook for "
        "that wave (kept with asked_in or asked_from, or renamed with renamed_from); otherwise nothing is "
        "written, so published history is never rewritten by a codebook edit nobody declared.")],
)
def survey_dimensions(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource):
    """Waves, questions, options and the indicator catalogue of every survey's codebook, and the
    `trusts` reference list (ODS code, type, region), as warehouse tables."""
    codebooks = survey_home.paths.codebooks
    with survey_home.warehouse(context.log) as con:
        dropped = {survey_id: answers_the_codebook_drops(con, cb) for survey_id, cb in codebooks.items()}
        dropped = {survey_id: found for survey_id, found in dropped.items() if found}
        if dropped:
            listed = "; ".join(f"{survey_id} {'; '.join(map(str, found))}" for survey_id, found in dropped.items())
            yield dg.AssetCheckResult(check_name=CHECK_CODEBOOK_KEEPS_ANSWERS, passed=False,
                                      severity=dg.AssetCheckSeverity.ERROR,
                                      metadata={"dropped": sum(len(found) for found in dropped.values())})
            raise dg.Failure(description=(
                f"Codebook refused, nothing written: it no longer holds what loaded waves were asked ({listed}). "
                "Keep a question dropped from later waves with asked_in: [the waves that asked it], give a "
                "renamed question renamed_from: its old id, or withdraw the waves (survey wave remove)"))
        trust_rows = write_trusts(con, survey_home.trusts())
        written = {cb.survey_id: write_survey_dimensions(con, cb) for cb in codebooks.values()}
    lines = ["| survey | codebook version | waves | questions | options | indicators |", "|---|---|---|---|---|---|"]
    for survey_id, rows in written.items():
        lines.append(
            f"| {survey_id} | {codebooks[survey_id].version} | {rows['waves']} | {rows['questions']} "
            f"| {rows['options']} | {rows['indicators']} |"
        )
    context.log.info("Dimensions written for %s", ", ".join(written) or "no survey")
    yield dg.MaterializeResult(
        check_results=[dg.AssetCheckResult(check_name=CHECK_CODEBOOK_KEEPS_ANSWERS, passed=True)],
        metadata={
            "surveys": dg.MetadataValue.md("\n".join(lines)),
            "trusts": trust_rows,
            "dagster/row_count": trust_rows + sum(sum(r.values()) for r in written.values()),
        }
    )
