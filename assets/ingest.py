"""Ingesting one wave: landing files → pandera validation → respondents, responses and quarantine."""

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pandas as pd

from assets.constants import (
    CHECK_FIELDWORK,
    CHECK_FILES_READABLE,
    CHECK_NOT_ANOTHER_WAVES_FILES,
    CHECK_QUARANTINE_SHARE,
    CHECK_ROWS_RECONCILE,
    CHECK_SAME_RESPONDENT_KEY,
    FIELDWORK_REFUSAL_SHARE,
    FINGERPRINT_METADATA,
    GROUP_INGEST,
    QUARANTINE_REFUSAL_SHARE,
    QUARANTINE_SHARE_LIMIT,
)
from assets.dimensions import survey_dimensions
from assets.partitions import wave_partitions
from assets.progress import report
from assets.refusals import as_markdown_text, fieldwork_metadata, other_waves_metadata, refusals
from assets.resources import SurveyHomeResource
from exports import FILE_SUFFIXES, WaveFileRejected
from home.deliveries import Delivery
from home.landing import (
    WAVE_SETTINGS,
    ArchivedOtherBytes,
    archive_declaration,
    archive_files,
    delivery_signature,
    inputs_fingerprint,
    population_digests,
    population_file,
    settings_bytes,
    split_partition_key,
    wave_files,
    wave_settings,
)
from schemas.codebook_files import CodebookError
from schemas.waves import WaveDeclarationError
from validation.engine import WaveValidation, validate_wave
from warehouse.load import WaveDoesNotReconcile, load_wave
from warehouse.stop_points import stop_point
from warehouse.weighting import LOW_EFFICIENCY, PopulationRefused, wave_population, weighting_metadata


class WaveDelivery(dg.Config):
    """Set by `survey ingest` only: a delivery waiting beside the wave's landing folder, read instead of
    the landed files and promoted into the folder once every file of it is readable."""

    pending_folder: str | None = None  # a folder inside the wave's landing folder (`.pending-...`)


def _quarantine_preview(validation: WaveValidation, limit: int = 20) -> str:
    """Failures by rule and the first few, as markdown for the UI: file, row, column and rule of each, its
    value described (``validation.quarantine.refusal_reason``), never copied; the values are in the working
    database only."""
    quarantine = validation.quarantine
    if quarantine.empty:
        return "No row was quarantined."
    by_rule = quarantine.groupby("rule")["source_row"].count().sort_values(ascending=False)
    lines = ["| rule | failures |", "|---|---|"] + [f"| {rule} | {n} |" for rule, n in by_rule.items()]
    lines += ["", f"First {min(limit, len(quarantine))} of {len(quarantine)} failures (values described, not "
              "shown; they are in the `quarantine` table of the working database's private file):", ""]
    lines += [f"- {as_markdown_text(reason)}" for reason in quarantine["reason"].head(limit)]
    return "\n".join(lines)


@dg.asset(
    partitions_def=wave_partitions,
    deps=[survey_dimensions],
    group_name=GROUP_INGEST,
    kinds={"csv", "pandera", "duckdb"},
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
            CHECK_NOT_ANOTHER_WAVES_FILES,
            asset="wave_responses",
            blocking=True,
            description="No file has the bytes of a file loaded in another wave (another wave's export landed in the "
            "wrong folder); otherwise the wave is refused before it is loaded, unless its wave.yaml sets "
            "accept_files_of_other_waves. Waves withdrawn with `survey wave remove` do not count.",
        ),
        dg.AssetCheckSpec(
            CHECK_SAME_RESPONDENT_KEY,
            asset="wave_responses",
            blocking=True,
            description="The pseudonym key is the one the survey's other waves were loaded with (by its "
            "fingerprint in load_log); otherwise the wave is refused, as its pseudonyms would match none of theirs.",
        ),
        dg.AssetCheckSpec(
            CHECK_FIELDWORK,
            asset="wave_responses",
            blocking=True,
            description="Every submission time falls within the wave's fieldwork dates, inclusive, in Europe/London "
            f"(a warning with the count otherwise); over {FIELDWORK_REFUSAL_SHARE:.0%} outside, the wave is refused "
            "before it is loaded (another wave's file, or the wrong dates), unless its wave.yaml sets "
            "accept_times_outside_fieldwork.",
        ),
        dg.AssetCheckSpec(
            CHECK_QUARANTINE_SHARE,
            asset="wave_responses",
            blocking=True,
            description=f"At most {QUARANTINE_SHARE_LIMIT:.0%} of the wave's rows are quarantined (a warning: more "
            f"usually means a wrong layout or survey); over {QUARANTINE_REFUSAL_SHARE:.0%}, or the wave.yaml's "
            "max_quarantined_share, the wave is refused before it is loaded.",
        ),
    ],
)
def wave_responses(context: dg.AssetExecutionContext, config: WaveDelivery, survey_home: SurveyHomeResource):
    """One wave's respondents (no personal data) and their answers in long format, validated against the
    survey's codebook and the wave's declaration (codebook or wave.yaml). Rows that break a rule go to
    `quarantine` with file, row, column, rule and value; each file is recorded in `load_log` with the
    fingerprint of what decided the load. The wave is replaced as a whole, in one transaction."""
    survey_id, wave_id = split_partition_key(context.partition_key)
    paths = survey_home.paths
    wave_dir = paths.wave_dir(survey_id, wave_id)
    try:
        codebook = paths.codebook(survey_id)
        codebook.wave(wave_id)
        declared = wave_settings(wave_dir)
    except (KeyError, CodebookError, WaveDeclarationError) as exc:
        raise dg.Failure(description=str(exc)) from None
    delivery = Delivery(wave_dir, wave_dir / config.pending_folder) if config.pending_folder else None
    files = wave_files(delivery.pending_dir, declared_in=wave_dir) if delivery else wave_files(wave_dir)
    if not files:
        raise dg.Failure(description=f"no export file ({', '.join(FILE_SUFFIXES)}) in {wave_dir}")
    validated = delivery_signature(files, wave_dir)
    stop_point("ingest")
    try:
        validation = validate_wave(
            files, codebook, wave_id, survey_home.trust_resolver(), layout=declared.layout,
            limits=survey_home.read_limits, staging_dir=paths.staging_dir,
            progress=lambda stage, rows: report(context.partition_key, stage, rows),
        )
    except WaveFileRejected as exc:
        # Named as the engineer knows it: inside the home (a delivery by its own name, not its pending folder).
        rejected = Path(exc.path)
        shown = rejected.name if delivery else (
            rejected.relative_to(paths.root).as_posix() if rejected.is_relative_to(paths.root) else exc.path)
        yield dg.AssetCheckResult(
            check_name=CHECK_FILES_READABLE, passed=False, metadata={"file": shown, "reason": exc.reason}
        )
        raise dg.Failure(
            description=f"File rejected, nothing of wave {wave_id} loaded: {shown}: {exc.reason}",
            metadata={"file": shown, "reason": exc.reason},
        ) from None
    yield dg.AssetCheckResult(check_name=CHECK_FILES_READABLE, passed=True, metadata={"files": len(files)})
    times = validation.submission_times
    try:
        pseudonymise = survey_home.pseudonymiser()
    except ValueError as exc:  # a key too short to be safe: its message names the key file or setting
        validation.discard()
        raise dg.Failure(description=f"Wave {wave_id} not loaded: {exc}") from None
    fingerprint = inputs_fingerprint([(f.name, f.sha256) for f in validation.files] + population_digests(wave_dir),
                                     settings_bytes(wave_dir / WAVE_SETTINGS), codebook.digest_for(wave_id))
    try:
        population = wave_population(wave_dir, codebook, wave_id, survey_home.trust_resolver())
    except PopulationRefused as exc:
        validation.discard()
        raise dg.Failure(description=f"Wave {wave_id} not loaded: {exc}") from None
    try:
        # The refusals that need what the working database holds are made under the writer lock that the
        # load then keeps, so that no other run can load the same bytes or another key in between.
        with survey_home.warehouse(survey_id, context.log) as con:
            others = yield from refusals(context, validation, declared, con, pseudonymise.fingerprint)
            if delivery is not None:
                replaced = delivery.promote(paths.archive_dir / survey_id / wave_id)
                files = wave_files(wave_dir)
                context.log.info("Delivery promoted into %s; replaced %s", wave_dir.relative_to(paths.root),
                                 ", ".join(p.name for p in replaced) or "nothing")
            stop_point("validation")
            archive = paths.archive_dir / survey_id / wave_id
            archived = archive_files(files, archive, paths.root, digests={f.name: f.sha256 for f in validation.files})
            archive_declaration(wave_dir, archive)
            if population is not None:  # kept with the load, as the exports are
                kept = archive_files([population_file(wave_dir)], archive, paths.root,
                                     digests={population.file: population.sha256})
                population = replace(population, archived_as=kept[population.file])
            report(context.partition_key, "loading", validation.rows_loaded)
            # Validation ran before the writer lock was taken: another run (the sensor's, a `survey ingest`)
            # may have replaced the wave's files meanwhile. Loading this validation would undo it.
            if delivery_signature(wave_files(wave_dir), wave_dir) != validated:
                raise dg.Failure(description=f"Wave {wave_id} not loaded: its files or wave.yaml changed while "
                                 "it was validated (another delivery); the next run loads them as they are now")
            counts = load_wave(con, codebook, wave_id, validation, run_id=context.run.run_id,
                               pseudonymise=pseudonymise, archived_as=archived,
                               inputs_fingerprint=fingerprint, population=population)
            weighting = weighting_metadata(con, survey_id, wave_id) if codebook.weighting is not None else {}
    except ArchivedOtherBytes as exc:
        raise dg.Failure(description=f"Wave {wave_id} not loaded: {exc}; the next run loads them as they are now") from None
    except PopulationRefused as exc:  # weights that cannot be made (a cell without people, margins unmet): nothing loaded
        raise dg.Failure(description=f"Wave {wave_id} not loaded: {exc}") from None
    except WaveDoesNotReconcile as exc:
        yield dg.AssetCheckResult(check_name=CHECK_ROWS_RECONCILE, passed=False, metadata=_int_metadata(exc.counts))
        raise dg.Failure(description=f"Wave {wave_id} not loaded: {exc}") from None
    finally:
        validation.discard()
    if weighting.get("weighting_efficiency", 1) < LOW_EFFICIENCY:
        context.log.warning("Wave %s: the weights' efficiency is %.0f%% (effective base %.0f of %d respondents): "
                            "re-examine the weighting scheme", context.partition_key,
                            100 * weighting["weighting_efficiency"], weighting["effective_base"], validation.rows_loaded)
    cleaned = validation.cleaned_by_rule()  # counts only: a cleaned cell's value stays in the working database
    context.log.info(
        "Wave %s: %d rows read, %d loaded, %d quarantined%s%s", context.partition_key, validation.rows_read,
        validation.rows_loaded, validation.rows_quarantined,
        "".join(f"; {n} cells cleaned ({rule})" for rule, n in cleaned.items()),
        "".join(f"; {note}" for note in validation.notes),
    )
    share = validation.quarantined_share
    files_table = pd.DataFrame([f.__dict__ for f in validation.files])
    for column in ("name", "duplicate_of"):
        files_table[column] = files_table[column].map(lambda v: None if v is None else as_markdown_text(v))
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": validation.rows_loaded,
            "rows_read": validation.rows_read,
            "rows_loaded": validation.rows_loaded,
            "rows_quarantined": validation.rows_quarantined,
            "cells_cleaned": sum(cleaned.values()),
            "files": dg.MetadataValue.md(files_table.to_markdown(index=False)),
            "quarantine": dg.MetadataValue.md(_quarantine_preview(validation)),
            FINGERPRINT_METADATA: fingerprint,
            "codebook_version": codebook.version,
            **weighting,
        },
        check_results=[
            dg.AssetCheckResult(check_name=CHECK_ROWS_RECONCILE, passed=True, metadata=_int_metadata(counts)),
            dg.AssetCheckResult(check_name=CHECK_NOT_ANOTHER_WAVES_FILES, passed=not others,
                                severity=dg.AssetCheckSeverity.WARN, metadata=other_waves_metadata(others)),
            dg.AssetCheckResult(check_name=CHECK_SAME_RESPONDENT_KEY, passed=True),
            dg.AssetCheckResult(check_name=CHECK_FIELDWORK, passed=times.outside == 0,
                                severity=dg.AssetCheckSeverity.WARN, metadata=fieldwork_metadata(validation)),
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
