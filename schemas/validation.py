"""Validating a wave against its codebook: valid rows go on, failing rows go to quarantine with a reason.

Every row read ends up either in ``WaveValidation.valid`` or, with one quarantine entry per failure, in
``WaveValidation.quarantine``. In order:
1. each file is read by its layout (``exports``): a file that cannot be used whole is refused;
2. trusts given by name or by a merged trust's old code are mapped to the current ODS code (the value
   as given is kept in ``trust_code_reported``);
3. the pandera schema generated from the codebook checks every cell, lazily;
4. partial responses are quarantined as ``incomplete`` unless the codebook counts them;
5. a respondent who submitted more than once (same respondent id, or same email where the export has
   one) keeps the latest submission; earlier ones are quarantined as ``superseded``, pointing to it.
Personal-data columns are dropped before anything leaves this module.

A refused cell's value is kept in the quarantine's ``offending_value`` only, which goes to the private
working database. Everything else that says why a row was refused (the quarantine's ``reason``, Dagster
metadata and logs, failure messages, the terminal) shows the value through ``describe_value``: its length
and the kinds of character in it, never the characters, which can be a name, an email or markdown that
the Dagster UI would render. Free text is described even in ``offending_value``.

Two engines give the same outcome. Small waves, and every layout but plain CSV, are validated as pandas
frames here. Large plain-CSV waves are validated inside DuckDB (``schemas.staged_validation``), whose
valid rows stay in a staging database until loaded; a file DuckDB cannot read exactly as the pandas path
does comes back here.

What does not belong here: reading file formats (``exports``) and writing to the warehouse.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import pandera.pandas as pa

from exports import COMPLETE, SOURCE_ROW, WHOLE_ROW, WaveFile, plain_csv, read_export
from exports.base import RULE_FIELD_COUNT, map_distinct
from schemas.codebook import Codebook, fold
from schemas.reference import TrustResolver
from schemas.response_schema import (
    PANDERA_CHECK_RULES,
    RULE_AT_LEAST_ONE_OPTION,
    RULE_INCOMPLETE,
    RULE_SUPERSEDED,
    RULES,
    build_response_schema,
    parse_timestamps,
)
from schemas.staged_validation import stage_wave
from schemas.staging import NotStageable, StagedWave, scan_file, stageable_layout

SOURCE_FILE = "source_file"
TRUST_REPORTED = "trust_code_reported"
QUARANTINE_COLUMNS = [
    SOURCE_FILE, SOURCE_ROW, "respondent_id", "column_name", "rule", "offending_value",
    "kept_source_file", "kept_source_row", "reason",
]


@dataclass(frozen=True)
class SourceFile:
    """One landed file of a wave, as recorded in the load log."""

    name: str
    layout: str
    sha256: str
    size_bytes: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    duplicate_of: str | None = None  # an identical file of the same wave, which was read instead


Engine = Literal["auto", "pandas", "duckdb"]
# From this many bytes of plain CSV a wave is validated in DuckDB (benchmarks: docs/performance.md).
STAGE_FROM_BYTES = 24 * 1024 * 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaveValidation:
    """The outcome of validating every file of one wave."""

    # Canonical text columns, plus source_file, source_row, trust_code_reported; None when staged.
    valid: pd.DataFrame | None
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS, one row per failure (a row may fail several rules)
    files: tuple[SourceFile, ...]
    staged: StagedWave | None = None  # the valid rows in a staging database (the DuckDB engine)
    engine: str = "pandas"
    engine_note: str | None = None  # why a large wave was not staged

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return len(self.valid) if self.valid is not None else sum(f.rows_loaded for f in self.files)

    def valid_rows(self) -> pd.DataFrame:
        """The valid rows as a frame, from either engine (the whole wave in memory: small waves, tests)."""
        return self.valid if self.valid is not None else self.staged.frame()

    def discard(self) -> None:
        """Remove the staging database, once the wave is loaded (or will not be)."""
        if self.staged is not None:
            self.staged.discard()

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


# Rules whose offending value is worded by the pipeline (a pointer to the submission kept, a count of
# cells, "no option ticked"), never a cell as delivered: shown as they are.
WORDED_BY_PIPELINE = frozenset({RULE_SUPERSEDED, RULE_INCOMPLETE, RULE_FIELD_COUNT, RULE_AT_LEAST_ONE_OPTION})

# Unicode general categories (their first letter) by the word a person reads; marks are accents on letters.
_CHARACTER_KINDS = (("letters", "LM"), ("digits", "N"), ("spaces", "Z"), ("punctuation", "P"), ("symbols", "S"))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def describe_value(value: object) -> str:
    """A refused cell as it may be shown outside the private working database: its length and the kinds of
    character in it, never the characters themselves ("23 characters: letters, digits and punctuation")."""
    if _missing(value):
        return "missing"
    text = str(value)
    if not text:
        return "empty"
    categories = {"Z" if c.isspace() else unicodedata.category(c)[0] for c in text}
    kinds = [word for word, letters in _CHARACTER_KINDS if categories & set(letters)]
    if categories - set("LMNZPS"):
        kinds.append("invisible or control characters")
    listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"
    return f"{len(text)} character{'' if len(text) == 1 else 's'}: {listed}"


def refusal_reason(source_file: str, source_row: int, column: str, rule: str, offending_value: object) -> str:
    """Why a row was refused, in one line that may be shown anywhere: file, row, column, rule and the
    value described (``describe_value``), unless the pipeline worded it itself."""
    shown = offending_value if rule in WORDED_BY_PIPELINE and not _missing(offending_value) else describe_value(offending_value)
    return f"{source_file} row {source_row}, column {column}: {RULES.get(rule, rule)} (rule {rule}; value: {shown})"


def text_columns(codebook: Codebook) -> set[str]:
    """The free-text questions' columns, whose values are described even in the private quarantine."""
    return {q.id for q in codebook.questions if q.type == "text"}


def _as_offending(value: object) -> str | None:
    return None if _missing(value) else str(value)


def _entries(rows: pd.DataFrame, id_column: str, **columns) -> pd.DataFrame:
    """Quarantine entries for these rows of the responses frame."""
    return pd.DataFrame(
        {SOURCE_FILE: rows[SOURCE_FILE].to_numpy(), SOURCE_ROW: rows[SOURCE_ROW].to_numpy(),
         "respondent_id": rows[id_column].to_numpy(), **columns}
    )


def _schema_failures(failure_cases: pd.DataFrame, responses: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """One quarantine entry per (row, column, rule) from pandera's failure cases."""
    if failure_cases["index"].isna().any():
        # A failure not tied to a row (e.g. a whole-column dtype check) would let bad rows through.
        unexplained = failure_cases[failure_cases["index"].isna()][["column", "check"]].drop_duplicates()
        raise RuntimeError(f"validation failures not tied to a row: {unexplained.to_dict('records')}")
    failures = failure_cases.copy()
    failures["index"] = failures["index"].astype(int)
    check = failures["check"].astype(str)
    failures["rule"] = check.map(lambda c: PANDERA_CHECK_RULES.get(c, c.split(":")[0]))
    # A dataframe-wide check reports every column of the failing row; report it once, on the question.
    whole_row = check.str.startswith(f"{RULE_AT_LEAST_ONE_OPTION}:")
    failures.loc[whole_row, "column"] = check[whole_row].str.split(":").str[1]
    failures.loc[whole_row, "failure_case"] = "no option ticked"
    failures = failures.drop_duplicates(subset=["index", "column", "rule"])
    offending = [_as_offending(v) for v in failures["failure_case"]]
    return _entries(
        responses.loc[failures["index"]], id_column,
        column_name=failures["column"].to_numpy(), rule=failures["rule"].to_numpy(), offending_value=offending,
    )


def _reader_failures(name: str, wave_file: WaveFile) -> pd.DataFrame:
    failures = wave_file.row_failures
    return pd.DataFrame(
        {SOURCE_FILE: name, SOURCE_ROW: failures[SOURCE_ROW].to_numpy(), "respondent_id": None,
         "column_name": failures["column_name"].to_numpy(), "rule": failures["rule"].to_numpy(),
         "offending_value": failures["offending_value"].to_numpy()}
    )


def _superseded(responses: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Earlier submissions of a respondent (same id, or same email) than the one kept.

    Only rows that pass every other rule take part: a later submission that is itself quarantined does
    not displace an earlier one that can be loaded.
    """
    id_column = codebook.respondent.id_column
    order = responses.assign(
        _at=parse_timestamps(responses[codebook.respondent.submitted_at_column]).fillna(pd.Timestamp.min.tz_localize("UTC")),
        _file=responses[SOURCE_FILE].map({f: n for n, f in enumerate(responses[SOURCE_FILE].unique())}),
    ).sort_values(["_at", "_file", SOURCE_ROW], kind="stable")
    # Ids are compared as given (pseudonyms are too); emails ignoring case.
    keys = {id_column: order[id_column].map(lambda v: None if v is None or v != v else v)}
    if "email" in order:
        keys["email"] = order["email"].map(lambda v: None if v is None or v != v or fold(v) == "anonymous" else fold(v))
    entries, already = [], set()
    for key_name, key in keys.items():
        has_key = key.notna()
        keyed = order[has_key]
        kept = keyed.groupby(key[has_key], sort=False)[[SOURCE_FILE, SOURCE_ROW]].transform("last")
        earlier = (kept[SOURCE_FILE] != keyed[SOURCE_FILE]) | (kept[SOURCE_ROW] != keyed[SOURCE_ROW])
        earlier &= ~keyed.index.isin(list(already))
        rows, pointer = keyed[earlier], kept[earlier]
        already |= set(rows.index)
        # Never the email itself: it would put personal data in the quarantine.
        what = "respondent id" if key_name == id_column else "email"
        entries.append(_entries(
            rows, id_column, column_name=id_column if key_name == id_column else "email", rule=RULE_SUPERSEDED,
            offending_value=[f"same {what} as {f} row {r}" for f, r in zip(pointer[SOURCE_FILE], pointer[SOURCE_ROW])],
            kept_source_file=pointer[SOURCE_FILE].to_numpy(), kept_source_row=pointer[SOURCE_ROW].to_numpy(),
        ))
    return pd.concat(entries, ignore_index=True)


def _with_reasons(quarantine: pd.DataFrame, free_text: set[str]) -> pd.DataFrame:
    """The entries of either engine in order, with their reasons, and free text described."""
    quarantine = quarantine.reindex(columns=QUARANTINE_COLUMNS)
    quarantine = quarantine.sort_values([SOURCE_FILE, SOURCE_ROW, "column_name"]).reset_index(drop=True)
    quarantine["reason"] = [
        refusal_reason(f, r, c, rule, v)
        for f, r, c, rule, v in zip(
            quarantine[SOURCE_FILE], quarantine[SOURCE_ROW], quarantine["column_name"],
            quarantine["rule"], quarantine["offending_value"],
        )
    ]
    # Free text can hold anything a person typed (names, phone numbers, whole letters): even the private
    # quarantine keeps only its description.
    typed = quarantine["column_name"].isin(free_text) & quarantine["offending_value"].notna()
    typed &= ~quarantine["rule"].isin(WORDED_BY_PIPELINE)
    quarantine.loc[typed, "offending_value"] = quarantine.loc[typed, "offending_value"].map(describe_value)
    return quarantine


def validate_wave(
    paths: list[Path], codebook: Codebook, wave_id: str, resolver: TrustResolver, layout: str | None = None,
    max_bytes: int | None = None, engine: Engine = "auto", staging_dir: Path | None = None,
    stage_from_bytes: int | None = None, progress: Callable[[str, int | None], None] | None = None,
) -> WaveValidation:
    """Read and validate every file of a wave against the questionnaire as asked in that wave; raises
    ``WaveFileRejected`` if any file is unusable.

    The files of a wave are validated together: a respondent may appear in more than one of them.
    ``engine="auto"`` stages plain-CSV waves of ``stage_from_bytes`` (default ``STAGE_FROM_BYTES``) or
    more in DuckDB, in a new folder under ``staging_dir`` (default: the system's temporary folder); the
    caller loads them and then calls ``discard()``. ``progress`` is told each stage reached ("reading",
    "validating") with the rows read when known.
    """
    progress = progress or (lambda stage, rows: None)
    progress("reading", None)
    codebook = codebook.for_wave(wave_id)
    schema = build_response_schema(codebook, resolver.codes)
    # One read of each file: its digest (for the load log and the archive) and what staging needs to know.
    scans = {path: scan_file(path) for path in paths}
    # The same bytes delivered twice under two names are one delivery: read once, log both.
    first_with = {}
    for path in paths:
        first_with.setdefault(scans[path].sha256, path)
    duplicates = tuple(
        SourceFile(p.name, "duplicate", scans[p].sha256, scans[p].size_bytes, 0, 0, 0,
                   duplicate_of=first_with[scans[p].sha256].name)
        for p in paths if first_with[scans[p].sha256] != p)
    paths = [p for p in paths if first_with[scans[p].sha256] == p]
    note = None
    size = sum(scans[p].size_bytes for p in paths)
    threshold = STAGE_FROM_BYTES if stage_from_bytes is None else stage_from_bytes
    if engine == "duckdb" or (engine == "auto" and size >= threshold):
        try:
            if max_bytes is not None and any(scans[p].size_bytes > max_bytes for p in paths):
                raise NotStageable("a file is over the size limit")
            if layout not in (None, plain_csv.NAME) or not all(stageable_layout(p, codebook) for p in paths):
                raise NotStageable("not every file is a plain CSV")
            staged, entries, counts = stage_wave(paths, scans, codebook, schema, resolver, staging_dir, progress)
        except NotStageable as exc:
            note = f"validated as pandas frames: {exc}"
            log.info("wave %s %s", wave_id, note)
        else:
            files = tuple(SourceFile(p.name, plain_csv.NAME, scans[p].sha256, scans[p].size_bytes, **counts[p.name])
                          for p in paths)
            quarantine = (_with_reasons(entries, text_columns(codebook)) if not entries.empty
                          else pd.DataFrame(columns=QUARANTINE_COLUMNS))
            return WaveValidation(None, quarantine, files + duplicates, staged=staged, engine="duckdb")
    valid, quarantine, files = _validate_frames(paths, scans, codebook, schema, resolver, layout, max_bytes, progress)
    return WaveValidation(valid, quarantine, files + duplicates, engine_note=note)


def _validate_frames(paths, scans, codebook, schema, resolver, layout, max_bytes, progress):
    id_column = codebook.respondent.id_column
    wave_files = [read_export(path, codebook, layout=layout, max_bytes=max_bytes) for path in paths]
    progress("validating", sum(f.rows_read for f in wave_files))
    responses = pd.concat(
        [f.responses.assign(**{SOURCE_FILE: p.name}) for p, f in zip(paths, wave_files)], ignore_index=True
    )
    trust_column = codebook.respondent.trust.column
    responses[TRUST_REPORTED] = responses[trust_column]
    responses[trust_column] = map_distinct(responses[trust_column], lambda v: resolver.resolve(v)[0])

    quarantines = [_reader_failures(p.name, f) for p, f in zip(paths, wave_files) if not f.row_failures.empty]
    failure_cases = None
    try:
        schema.validate(responses, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failure_cases = errors.failure_cases
    # Outside the except block: pandera's message quotes the failing cells, and an error raised while
    # handling it would carry it along as its context (into Dagster's failure record).
    if failure_cases is not None:
        quarantines.append(_schema_failures(failure_cases, responses, id_column))
    if not codebook.respondent.count_partial:
        partial = responses[~responses[COMPLETE].astype(bool)]
        quarantines.append(_entries(partial, id_column, column_name=WHOLE_ROW, rule=RULE_INCOMPLETE,
                                    offending_value="response not finished"))
    quarantines = [q for q in quarantines if not q.empty]
    if quarantines:
        failed_so_far = pd.concat(quarantines)[[SOURCE_FILE, SOURCE_ROW]].drop_duplicates()
        passing = ~pd.MultiIndex.from_frame(responses[[SOURCE_FILE, SOURCE_ROW]]).isin(
            pd.MultiIndex.from_frame(failed_so_far))
    else:
        passing = pd.Series(True, index=responses.index).to_numpy()
    superseded = _superseded(responses[passing], codebook)
    if not superseded.empty:
        quarantines.append(superseded)
    quarantine = (_with_reasons(pd.concat(quarantines, ignore_index=True), text_columns(codebook)) if quarantines
                  else pd.DataFrame(columns=QUARANTINE_COLUMNS))

    failed = pd.MultiIndex.from_frame(quarantine[[SOURCE_FILE, SOURCE_ROW]].drop_duplicates())
    is_failed = pd.MultiIndex.from_frame(responses[[SOURCE_FILE, SOURCE_ROW]]).isin(failed)
    personal = [c for c in codebook.respondent.personal_data if c in responses]
    valid = responses[~is_failed].drop(columns=[*personal, COMPLETE]).reset_index(drop=True)
    files = tuple(
        SourceFile(
            name=path.name,
            layout=wave_file.layout,
            sha256=scans[path].sha256,
            size_bytes=scans[path].size_bytes,
            rows_read=wave_file.rows_read,
            rows_loaded=int((valid[SOURCE_FILE] == path.name).sum()),
            rows_quarantined=int(quarantine.loc[quarantine[SOURCE_FILE] == path.name, SOURCE_ROW].nunique()),
        )
        for path, wave_file in zip(paths, wave_files)
    )
    return valid, quarantine, files
