"""The warehouse's dimension tables, rebuilt from the codebook of each survey the run refreshes and the trust
reference list, in the survey's own working database."""

import dagster as dg

from assets.constants import CHECK_CODEBOOK_KEEPS_ANSWERS, GROUP_DIMENSIONS
from assets.partitions import surveys_of_run
from assets.resources import SurveyHomeResource
from warehouse.admission import answers_the_codebook_drops
from warehouse.dimensions import write_survey_dimensions, write_trusts


@dg.asset(
    group_name=GROUP_DIMENSIONS, kinds={"duckdb", "yaml"},
    check_specs=[dg.AssetCheckSpec(
        CHECK_CODEBOOK_KEEPS_ANSWERS, asset="survey_dimensions", blocking=True,
        description="Every question and option that a loaded wave was asked is still in its survey's codebook for "
        "that wave (kept with asked_in or asked_from, or renamed with renamed_from); otherwise nothing is "
        "written, so published history is never rewritten by a codebook edit nobody declared.")],
)
def survey_dimensions(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource):
    """Waves, questions, options and the indicator catalogue of each survey's codebook, and the
    `trusts` reference list (ODS code, type, region), as warehouse tables: the run's survey (every survey
    when the run names none), in its own working database."""
    codebooks = survey_home.paths.codebooks
    surveys = surveys_of_run(context, list(codebooks))
    dropped = {}
    for survey_id in surveys:  # every survey checked before any is written
        with survey_home.warehouse(survey_id, context.log) as con:
            if found := answers_the_codebook_drops(con, codebooks[survey_id]):
                dropped[survey_id] = found
    if dropped:
        listed = "; ".join(f"{survey_id} {'; '.join(map(str, found))}" for survey_id, found in dropped.items())
        yield dg.AssetCheckResult(check_name=CHECK_CODEBOOK_KEEPS_ANSWERS, passed=False,
                                  severity=dg.AssetCheckSeverity.ERROR,
                                  metadata={"dropped": sum(len(found) for found in dropped.values())})
        raise dg.Failure(description=(
            f"Codebook refused, nothing written: it no longer holds what loaded waves were asked ({listed}). "
            "Keep a question dropped from later waves with asked_in: [the waves that asked it], give a "
            "renamed question renamed_from: its old id, or withdraw the waves (survey wave remove)"))
    written, trust_rows, trusts = {}, 0, survey_home.trusts() if surveys else None
    for survey_id in surveys:
        with survey_home.warehouse(survey_id, context.log) as con:
            trust_rows = write_trusts(con, trusts)
            written[survey_id] = write_survey_dimensions(con, codebooks[survey_id])
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
