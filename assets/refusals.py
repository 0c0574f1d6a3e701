"""Refusing a validated wave whole, before anything of it is moved or loaded: the wave-level checks of
``wave_responses`` that fail as blocking, each with its one-line reason and how to accept it on purpose.

What does not belong here: finding what is refused (``validation`` for the rows, ``warehouse.admission``
for what the working database holds), or the asset itself (``assets.ingest``).
"""

import dagster as dg

from assets.constants import (
    CHECK_FIELDWORK,
    CHECK_NOT_ANOTHER_WAVES_FILES,
    CHECK_QUARANTINE_SHARE,
    CHECK_SAME_RESPONDENT_KEY,
    FIELDWORK_REFUSAL_SHARE,
    QUARANTINE_REFUSAL_SHARE,
)
from home.landing import WAVE_SETTINGS, split_partition_key
from home.settings import RESPONDENT_KEY_ENV
from validation.engine import WaveValidation
from warehouse.admission import files_of_other_waves, waves_under_other_keys

# File names are as delivered: characters that make markdown act (links, images, HTML, tables) are
# escaped, so that the UI shows them rather than renders them.
_MARKDOWN_ACTIVE = {ord(c): "\\" + c for c in "\\`*[]<>|!~"}


def as_markdown_text(text: str) -> str:
    return str(text).translate(_MARKDOWN_ACTIVE)


def refusals(context, validation: WaveValidation, declared, con, key_fingerprint: str):
    """Refuse the wave whole, before anything of it is moved or loaded, for the first reason that holds: a
    file with another wave's bytes, submission times outside the fieldwork, most rows quarantined, or a
    pseudonym key other than the earlier waves'. Each but the last may be accepted on purpose in wave.yaml."""
    survey_id, wave_id = split_partition_key(context.partition_key)
    others = files_of_other_waves(con, survey_id, wave_id, [(f.name, f.sha256) for f in validation.files])
    if others and declared.accept_files_of_other_waves:
        context.log.warning("Wave %s loaded as accepted in its %s: %s", context.partition_key, WAVE_SETTINGS,
                            "; ".join(map(str, others)))
    elif others:
        yield from refuse(validation, CHECK_NOT_ANOTHER_WAVES_FILES, other_waves_metadata(others), (
            f"Wave {wave_id} refused, nothing of it loaded: {'; '.join(map(str, others))}. Another wave's export "
            f"landed in the wrong folder? If the file is right, set accept_files_of_other_waves: true in its "
            f"{WAVE_SETTINGS} (survey ingest --accept-files-of-other-waves)"))
    times = validation.submission_times
    if times.outside_share > FIELDWORK_REFUSAL_SHARE and not declared.accept_times_outside_fieldwork:
        yield from refuse(validation, CHECK_FIELDWORK, fieldwork_metadata(validation), (
            f"Wave {wave_id} refused, nothing of it loaded: {times}, over the limit of {FIELDWORK_REFUSAL_SHARE:.0%}. "
            f"Another wave's file, or the wrong dates? If the file is right, set accept_times_outside_fieldwork: "
            f"true in its {WAVE_SETTINGS} (survey ingest --accept-times-outside-fieldwork)"))
    if times.outside:
        context.log.warning("Wave %s: %s", context.partition_key, times)
    limit = declared.max_quarantined_share or QUARANTINE_REFUSAL_SHARE
    refusal = validation.refusal_for_quarantine(limit)
    if refusal is not None:
        yield from refuse(validation, CHECK_QUARANTINE_SHARE, {
            "quarantined_share": dg.MetadataValue.float(round(validation.quarantined_share, 4)),
            "refused_above": dg.MetadataValue.float(limit),
            **{f"share_{rule}": dg.MetadataValue.float(round(share, 4))
               for rule, share in validation.quarantined_shares_by_rule().items()}}, (
            f"Wave {wave_id} refused, nothing of it loaded: {refusal}. Usually the wrong file, layout or survey; "
            f"if the wave is right as it is, set max_quarantined_share in its {WAVE_SETTINGS} "
            "(survey ingest --max-quarantined-share) to load its good rows"))
    rekeyed = waves_under_other_keys(con, survey_id, wave_id, key_fingerprint)
    if rekeyed:
        yield from refuse(validation, CHECK_SAME_RESPONDENT_KEY, {"other_key_waves": ", ".join(rekeyed)}, (
            f"Wave {wave_id} refused, nothing of it loaded: the respondent key is not the one wave(s) "
            f"{', '.join(rekeyed)} of {survey_id} were loaded with, so its pseudonyms would match none of theirs. "
            f"Restore that key ({RESPONDENT_KEY_ENV}, or the key file under the home's secrets), or withdraw those "
            "waves (survey wave remove) and load them again under the new key"))
    return others


def fieldwork_metadata(validation: WaveValidation) -> dict:
    times = validation.submission_times
    return {"outside_fieldwork": times.outside, "with_a_time": times.timed, "fieldwork": f"{times.start} to {times.end}"}


def other_waves_metadata(others: list) -> dict:
    return {"files": ", ".join(sorted({as_markdown_text(o.file) for o in others})),
            "other_waves": ", ".join(sorted({f"{o.other_survey_id}/{o.other_wave_id}" for o in others}))}


def refuse(validation: WaveValidation, check_name: str, metadata: dict, description: str):
    """Fail ``check_name`` (blocking) and the step: the wave is refused whole before anything is loaded."""
    validation.discard()
    yield dg.AssetCheckResult(check_name=check_name, passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)
    raise dg.Failure(description=description)
