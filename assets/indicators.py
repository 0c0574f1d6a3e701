"""Indicators: each wave's headline indicators and breakdowns, and the trends across all waves."""

import dagster as dg
import pandas as pd

from assets.constants import CHECK_INDICATORS_VALID, FIGURES_CHANGED_METADATA, GROUP_INDICATORS
from assets.ingest import wave_responses
from assets.partitions import surveys_of_run, wave_partitions
from assets.progress import report
from assets.resources import SurveyHomeResource
from home.landing import split_partition_key
from warehouse.benchmarks import write_trust_benchmarks
from warehouse.breakdowns import SECONDARY, SMALL_BASE, compute_indicator_breakdowns, compute_trust_coverage
from warehouse.connection import replace_wave_rows
from warehouse.indicators import (
    compute_headline_indicators,
    figure_changes,
    indicator_problems,
    published_headline,
    write_headline_indicators,
)
from warehouse.trends import compute_indicator_trends, write_indicator_trends

# Per-wave results computed in the warehouse from one wave's responses.
PER_WAVE_SQL_ASSET = dict(
    partitions_def=wave_partitions,
    deps=[wave_responses],
    group_name=GROUP_INDICATORS,
    kinds={"duckdb", "sql"},
)


def _headline_preview(indicators: pd.DataFrame) -> str:
    table = indicators[["indicator_id", "numerator", "base", "value", "ci_low", "ci_high", "suppressed"]]
    return table.round(1).to_markdown(index=False)


@dg.asset(
    **PER_WAVE_SQL_ASSET,
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_INDICATORS_VALID,
            asset="headline_indicators",
            blocking=True,
            description="Numerators within bases, percentages within 0-100 and within their intervals, means "
            "within theirs, and suppression (no value, sd or interval shown) exactly where the base is below "
            "the threshold.",
        )
    ],
)
def headline_indicators(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource):
    """For one wave: the share of respondents choosing each option (and each composite in the codebook's
    indicator catalogue) with numerator, base, percentage and Wilson 95% interval; each mean (a scale item's
    score, a numeric question's mean, a theme score) with its standard deviation and Student's t interval;
    each numeric question's median; all suppressed where the base is below the codebook's threshold; the
    counts `respondents` and `trusts_responding`; and `trust_coverage`, responding trusts as a percentage of
    the wave's population of trusts."""
    survey_id, wave_id = split_partition_key(context.partition_key)
    codebook = survey_home.paths.codebook(survey_id)
    report(context.partition_key, "indicators")
    with survey_home.warehouse(survey_id, context.log) as con:
        before = published_headline(con, survey_id, wave_id)
        indicators = compute_headline_indicators(con, survey_id, wave_id, codebook.reporting)
        problems = indicator_problems(indicators, codebook.reporting.min_base)
        if problems:
            # The previous indicators of the wave stay; nothing downstream runs on these.
            yield dg.AssetCheckResult(
                check_name=CHECK_INDICATORS_VALID,
                passed=False,
                metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
            )
            raise dg.Failure(description=f"Indicators of {context.partition_key} not written: {'; '.join(problems)}")
        write_headline_indicators(con, survey_id, wave_id, indicators)
    # Said before the steps across waves publish them: which of the wave's published figures change
    # (a corrected delivery, or a codebook version that changes what an earlier wave counts).
    changes = figure_changes(before, indicators)
    if len(changes):
        context.log.warning("Wave %s: %d published figures change, e.g. %s", context.partition_key, len(changes),
                            "; ".join(f"{r.indicator_id} {r.before} → {r.after}" for r in changes.head(3).itertuples()))
    headline_ids = list(codebook.indicators.headline)
    headline = indicators.set_index("indicator_id").loc[headline_ids].reset_index() if headline_ids else indicators
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(indicators),
            "suppressed": int(indicators["suppressed"].sum()),
            "headline": dg.MetadataValue.md(_headline_preview(headline)),
            FIGURES_CHANGED_METADATA: len(changes),
            "figure_changes": dg.MetadataValue.md(changes.head(50).to_markdown(index=False) if len(changes)
                                                  else "No published figure changes."),
            "codebook_version": codebook.version,
        },
        check_results=[dg.AssetCheckResult(check_name=CHECK_INDICATORS_VALID, passed=True)],
    )


@dg.asset(deps=[headline_indicators], group_name=GROUP_INDICATORS, kinds={"duckdb", "sql"})
def indicator_trends(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """Every indicator in every loaded wave beside the previous wave: the change (percentage points for
    shares) and whether it is statistically significant at the codebook's level (pooled two-proportion
    z-test for shares, Welch's t-test for means; medians and counts are not tested). Recomputed across all
    of a survey's waves whenever any of them changes (the run's survey; every survey when it names none)."""
    rows = 0
    significant = []
    codebooks = survey_home.paths.codebooks
    for survey_id in surveys_of_run(context, list(codebooks)):
        report(survey_id, "trends")
        with survey_home.warehouse(survey_id, context.log) as con:
            trends = compute_indicator_trends(con, codebooks[survey_id])
            write_indicator_trends(con, survey_id, trends)
        rows += len(trends)
        significant.append(trends[trends["significant"].fillna(False).astype(bool)])
    changes = pd.concat(significant) if significant else pd.DataFrame()
    preview = (
        changes[["survey_id", "indicator_id", "previous_wave_id", "wave_id", "change", "p_value"]]
        .round(3)
        .to_markdown(index=False)
        if not changes.empty
        else "No significant change between consecutive waves."
    )
    context.log.info("Trends: %d rows, %d significant changes", rows, len(changes))
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows, "significant_changes": dg.MetadataValue.md(preview)}
    )


@dg.asset(
    **PER_WAVE_SQL_ASSET,
)
def indicator_breakdowns(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource) -> dg.MaterializeResult:
    """For one wave: each share and mean by the dimensions its codebook names (trust type and NHS region of the
    respondent's trust, respondent fields such as occupational group), weighted beside unweighted where the survey
    is weighted, with base, interval (Wilson; Student's t for means) and suppression (small base, then secondary
    suppression so that no suppressed cell can be recovered by subtraction; counts of 1 to 4 never shown);
    `trust_coverage`, responding trusts of each type and region against those in the reference list; and
    `trust_benchmarks`, each trust with enough respondents against the trusts of its type (lowest, median,
    highest), tested against the rest of the country."""
    survey_id, wave_id = split_partition_key(context.partition_key)
    codebook = survey_home.paths.codebook(survey_id)
    with survey_home.warehouse(survey_id, context.log) as con:
        breakdowns = compute_indicator_breakdowns(con, survey_id, wave_id, codebook.reporting)
        coverage = compute_trust_coverage(con, survey_id, wave_id)
        replace_wave_rows(con, "indicator_breakdowns", survey_id, wave_id, breakdowns)
        replace_wave_rows(con, "trust_coverage", survey_id, wave_id, coverage)
        [benchmarked] = write_trust_benchmarks(con, codebook, wave_id).itertuples(index=False)
    context.log.info("Wave %s: %s", context.partition_key, benchmarked.note)
    counts = breakdowns["suppression"].value_counts()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(breakdowns),
            "suppressed_small_base": int(counts.get(SMALL_BASE, 0)),
            "suppressed_secondary": int(counts.get(SECONDARY, 0)),
            "trusts_benchmarked": benchmarked.trusts_benchmarked,
            "benchmarks": dg.MetadataValue.md(benchmarked.note),
            "coverage": dg.MetadataValue.md(
                coverage[["dimension", "category", "trusts_responding", "trusts_in_reference"]].to_markdown(index=False)
            ),
        }
    )
