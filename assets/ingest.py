"""Ingesting one wave: landing files → pandera validation → respondents, responses and quarantine."""

import dagster as dg
import pandas as pd

from assets.constants import (
    CHECK_FILES_READABLE,
    CHECK_QUARANTINE_SHARE,
    CHECK_ROWS_RECONCILE,
    DUCKDB_POOL,
    FINGERPRINT_METADATA,
    GROUP_INGEST,
    QUARANTINE_SHARE_LIMIT,
)
from assets.dimensions import survey_dimensions
from assets.partitions import wave_partitions
from pipelines.landing import archive_files, fingerprint, split_partition_key, wave_files, wave_layout
from pipelines.resources import SurveyHomeResource
from schemas.exports import WaveFileRejected
from schemas.validation import WaveValidation, validate_wave
from warehouse.load import WaveDoesNotReconcile, load_wave
from warehouse.stop_points import stop_point


def _quarantine_preview(validation: WaveValidation, limit: int = 20) -> str:
    """Failures by rule and the first few, as markdown for the UI: file, row, column and rule of each, its
    value described (``schemas.validation.refusal_reason``), never copied; the values are in the working
    database only."""
    quarantine = validation.quarantine
    if quarantine.empty:
        return "No row was quarantined."
    by_rule = quarantine.groupby("rule")["source_row"].count().sort_values(ascending=False)
    lines = ["| rule | failures |", "|---|---|"] + [f"| {rule} | {n} |" for rule, n in by_rule.items()]
    lines += ["", f"First {min(limit, len(quarantine))} of {len(quarantine)} failures (values described, not "
              "shown; they are in the working database's `quarantine` table):", ""]
    # File names are as delivered: characters that make markdown act (links, images, HTML, tables) are
    # escaped, so that the UI shows them rather than renders them.
    active = {ord(c): "\\" + c for c in "\\`*[]<>|!~"}
    lines += [f"- {reason.translate(active)}" for reason in quarantine["reason"].head(limit)]
    return "\n".join(lines)


@dg.asset(
    partitions_def=wave_partitions,
    deps=[survey_dimensions],
    group_name=GROUP_INGEST,
    kinds={"csv", "pandera", "duckdb"},
    pool=DUCKDB_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_FILES_READABLE,
            asset="wave_responses",
            blocking=True,
            description="Every file of the wave can be read and its columns match the codebook; "
            "otherwise nothing of the wave is loaded.",
        ),
        dg.AssetCheckSpec(
            CHECK_ROWS_RECONCILE,
            asset="wave_responses",
            blocking=True,
            description="Every row read is loaded or quarantined, and the warehouse holds exactly those rows; "
            "otherwise the load is rolled back.",
        ),
        dg.AssetCheckSpec(
            CHECK_QUARANTINE_SHARE,
            asset="wave_responses",
            description=f"At most {QUARANTINE_SHARE_LIMIT:.0%} of the wave's rows are quarantined "
            "(more usually means a wrong layout or survey).",
        ),
    ],
)
def wave_responses(context: dg.AssetExecutionContext, survey_home: SurveyHomeResource):
    """One wave's respondents (no personal data) and their answers in long format, validated against the
    survey's codebook. Rows that break a rule go to `quarantine` with file, row, column, rule and value;
    each file is recorded in `load_log`. The wave is replaced as a whole, in one transaction."""
    survey_id, wave_id = split_partition_key(context.partition_key)
    paths = survey_home.paths
    codebook = paths.codebook(survey_id)
    try:
        codebook.wave(wave_id)
    except KeyError as exc:
        raise dg.Failure(description=str(exc.args[0])) from None
    wave_dir = paths.wave_dir(survey_id, wave_id)
    files = wave_files(wave_dir)
    if not files:
        raise dg.Failure(description=f"no export file (.csv, .xlsx, .sav) in {wave_dir}")
    stop_point("ingest")
    try:
        validation = validate_wave(
            files, codebook, wave_id, survey_home.trust_resolver(), layout=wave_layout(wave_dir),
            max_bytes=survey_home.max_file_bytes, staging_dir=paths.staging_dir,
            stage_from_bytes=survey_home.stage_from_bytes,
        )
    except WaveFileRejected as exc:
        yield dg.AssetCheckResult(
            check_name=CHECK_FILES_READABLE, passed=False, metadata={"file": exc.path, "reason": exc.reason}
        )
        raise dg.Failure(
            description=f"File rejected, nothing of wave {wave_id} loaded: {exc}",
            metadata={"file": exc.path, "reason": exc.reason},
        ) from None
    yield dg.AssetCheckResult(check_name=CHECK_FILES_READABLE, passed=True, metadata={"files": len(files)})
    try:
        stop_point("validation")
        archived = archive_files(files, paths.archive_dir / survey_id / wave_id,
                                 digests={f.name: f.sha256 for f in validation.files})
        with survey_home.warehouse(context.log) as con:
            counts = load_wave(con, codebook, wave_id, validation, run_id=context.run.run_id,
                               pseudonymise=survey_home.pseudonymiser(), archived_as=archived)
    except WaveDoesNotReconcile as exc:
        yield dg.AssetCheckResult(check_name=CHECK_ROWS_RECONCILE, passed=False, metadata=_int_metadata(exc.counts))
        raise dg.Failure(description=f"Wave {wave_id} not loaded: {exc}") from None
    finally:
        validation.discard()
    context.log.info(
        "Wave %s: %d rows read, %d loaded, %d quarantined (validated in %s%s)",
        context.partition_key, validation.rows_read, validation.rows_loaded, validation.rows_quarantined,
        validation.engine, f"; {validation.engine_note}" if validation.engine_note else "",
    )
    share = validation.rows_quarantined / validation.rows_read
    files_table = pd.DataFrame([f.__dict__ for f in validation.files])
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": validation.rows_loaded,
            "rows_read": validation.rows_read,
            "rows_loaded": validation.rows_loaded,
            "rows_quarantined": validation.rows_quarantined,
            "files": dg.MetadataValue.md(files_table.to_markdown(index=False)),
            "quarantine": dg.MetadataValue.md(_quarantine_preview(validation)),
            FINGERPRINT_METADATA: fingerprint([(f.name, f.sha256) for f in validation.files]),
            "codebook_version": codebook.version,
            "validated_in": validation.engine,
        },
        check_results=[
            dg.AssetCheckResult(check_name=CHECK_ROWS_RECONCILE, passed=True, metadata=_int_metadata(counts)),
            dg.AssetCheckResult(
                check_name=CHECK_QUARANTINE_SHARE,
                passed=share <= QUARANTINE_SHARE_LIMIT,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"quarantined_share": dg.MetadataValue.float(round(share, 4))},
            ),
        ],
    )


def _int_metadata(counts: dict) -> dict:
    return {k: int(v) for k, v in counts.items() if k != "reconciles"}
