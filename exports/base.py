"""What every export reader shares: file-level refusal, decoding, and the canonical wave frame.

Every layout is turned into the same **canonical frame**: the plain layout's columns (codebook order),
every cell as text with surrounding spaces stripped and empty cells missing, single-choice answers as
the codebook's label where the export's label matches it, one "0"/"1" column per multiple-choice option
(all missing when the question was not answered), plus ``source_row`` and ``_complete``. Row-level
problems a reader can see (a row cut short, an unknown label inside a joined cell) are returned as
``row_failures`` for the quarantine; everything else is left to the pandera schema.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from schemas.codebook import Codebook
from schemas.quarantine_rules import RULE_ENCODING, RULE_FIELD_COUNT, RULE_OPTION_LABEL, RULE_UNCALCULATED  # noqa: F401  (readers import them from here)
from schemas.questions import Question, fold

SOURCE_ROW = "source_row"
COMPLETE = "_complete"
ROW_FAILURE_COLUMNS = [SOURCE_ROW, "column_name", "rule", "offending_value"]
WHOLE_ROW = "(whole row)"


@dataclass(frozen=True)
class ReadLimits:
    """How much a reader accepts of a file before refusing it, from the settings (``home.settings``)."""

    max_bytes: int | None = None
    # Rows holding bytes that are not UTF-8, quarantined in a file read as UTF-8: this many, or this share of
    # its rows, whichever is more (``exports.text``).
    encoding_error_rows: int = 10
    encoding_error_share: float = 0.001
    # A workbook is refused before it is read past these (a small file can unpack to gigabytes).
    workbook_uncompressed_bytes: int = 1024 * 1024 * 1024
    workbook_shared_strings: int = 2_000_000
    workbook_cells: int = 50_000_000


class WaveFileRejected(ValueError):
    """A whole file refused: the message names the file and the reason, on one line."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` is refused before it is opened, if it is not a regular file (a symlink to one is): a
    named pipe or a device blocks a reader for ever, or never ends."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return None
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a file")
    return f"not a regular file but {kind}: save the export as a file and deliver that"


def refuse_irregular(path: Path) -> None:
    reason = not_a_regular_file(path)
    if reason:
        raise WaveFileRejected(path, reason)


def refuse_oversized(path: Path, max_bytes: int | None) -> None:
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise WaveFileRejected(path, f"the file is {size:,} bytes, over the limit of {max_bytes:,} bytes")


def read_bytes(path: Path, limits: ReadLimits | None = None) -> bytes:
    refuse_oversized(path, (limits or ReadLimits()).max_bytes)
    data = path.read_bytes()
    if not data.strip():
        raise WaveFileRejected(path, "the file is empty")
    return data


# --- how a source column feeds the canonical frame ----------------------------------------------

TargetKind = Literal["field", "single", "text", "numeric", "option", "joined", "complete", "ignore"]


@dataclass(frozen=True)
class Target:
    """What one source column holds: a respondent field, an answer, a completion flag, or nothing kept."""

    kind: TargetKind
    column: str | None = None  # canonical column (field, question id or option column)
    question: Question | None = None
    option_id: str | None = None


IGNORE = Target("ignore")


@dataclass
class WaveFile:
    layout: str
    responses: pd.DataFrame
    row_failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_FAILURE_COLUMNS))
    malformed_rows: int = 0
    encoding: str | None = None  # of a text file: how its bytes were decoded
    note: str | None = None  # said where the wave is reported: which sheet of a workbook was read, say

    @property
    def rows_read(self) -> int:
        return len(self.responses) + self.malformed_rows


def refuse_double_mapping(path: Path, plan: list[Target], headings: list[str]) -> None:
    """Two source columns feeding the same canonical column would silently overwrite one another."""
    seen = Counter(t.column for t in plan if t is not None and t.kind not in ("ignore", "complete"))
    for column, n in seen.items():
        if n > 1:
            sources = [h for h, t in zip(headings, plan) if t is not None and t.column == column]
            raise WaveFileRejected(path, f"{n} columns map to {column}: {', '.join(repr(s) for s in sources)}")


def refuse_missing(path: Path, plan: list[Target], codebook: Codebook) -> None:
    mapped = {t.column for t in plan} | {t.question.id for t in plan if t.question is not None}
    respondent = codebook.respondent
    optional = {f.column for f in respondent.fields if not f.required}
    needed = [c for c in respondent.columns if c not in mapped and c not in optional]
    needed += [q.id for q in codebook.questions if q.required and q.id not in mapped]
    if needed:
        raise WaveFileRejected(path, f"required columns are missing: {', '.join(needed)}")


def canonical_frame(
    records: list[list], row_numbers: list[int], plan: list[Target], codebook: Codebook
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The canonical frame and the reader's row failures from parsed records and a column plan."""
    raw = pd.DataFrame(records, dtype=object) if records else pd.DataFrame(columns=range(len(plan)), dtype=object)
    raw = raw.apply(lambda c: map_distinct(c, _as_text)).reindex(columns=range(len(plan)))
    out = pd.DataFrame(index=raw.index, columns=codebook.expected_columns, dtype=object)
    out[COMPLETE] = True
    failures: list[tuple] = []
    choices = {q.id: q for q in codebook.choice_questions}
    choices |= {f.column: f for f in codebook.respondent.fields}  # labelled as single-choice questions are
    option_sources: dict[str, list[int]] = {}
    for i, target in enumerate(plan):
        cells = raw[i]
        if target.kind in ("field", "text", "numeric"):  # a number as its text: validation reads it
            out[target.column] = cells
        elif target.kind == "single":
            out[target.column] = map_distinct(cells, lambda v, q=choices[target.column]: canonical_label(q, v))
        elif target.kind == "complete":
            out[COMPLETE] = map_distinct(cells, lambda v: v is None or fold(v) not in ("0", "false", "no"))
        elif target.kind == "option":
            out[target.column] = map_distinct(
                cells, lambda v: None if v is None else ("0" if fold(v) in ("0", "0.0") else "1"))
            option_sources.setdefault(target.question.id, []).append(i)
        elif target.kind == "joined":
            flags, bad = _split_joined(cells, target.question)
            for column in target.question.option_columns:
                out[column] = flags[column]
            failures += [(row_numbers[r], target.question.id, RULE_OPTION_LABEL, label) for r, label in bad]
    for question_id in option_sources:
        _mark_unanswered(out, choices[question_id])
    out.insert(0, SOURCE_ROW, row_numbers)
    return out, pd.DataFrame(failures, columns=ROW_FAILURE_COLUMNS)


def map_distinct(cells: pd.Series, convert) -> pd.Series:
    """``convert`` of each cell, computed once per distinct value: a wave has many rows but few distinct
    answers per column, and matching a label is the costly part."""
    if pd.api.types.infer_dtype(cells, skipna=True) not in ("string", "empty"):
        # Mixed types (a spreadsheet's numbers, dates, booleans) hash alike across types (1 == 1.0 == True).
        return pd.Series([convert(None if _missing(v) else v) for v in cells], index=cells.index, dtype=object)
    codes, distinct = pd.factorize(cells.to_numpy(dtype=object), use_na_sentinel=True)
    # A missing cell's code is -1, which picks the last entry: the conversion of a missing value.
    converted = np.empty(len(distinct) + 1, dtype=object)
    converted[:] = [convert(v) for v in distinct] + [convert(None)]
    return pd.Series(converted[codes], index=cells.index, dtype=object)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _as_text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value).strip()
    return text or None


def canonical_label(question, value: str | None) -> str | None:
    """The codebook's label for an export's label that matches it (or an alias); otherwise unchanged."""
    if value is None:
        return None
    for option in question.options:
        if any(fold(value) == fold(label) for label in option.labels):
            return option.label
    return value


def option_for(question: Question, label: str) -> str | None:
    for option in question.options:
        if any(fold(label) == fold(known) for known in option.labels):
            return option.id
    return None


def _split_joined(cells: pd.Series, question: Question) -> tuple[dict[str, list], list[tuple[int, str]]]:
    """Microsoft Forms' "label;label;" cells as option flags; unknown labels are reported."""
    flags = {column: [] for column in question.option_columns}
    unknown = []
    for row, cell in enumerate(cells):
        if cell is None:
            for column in flags:
                flags[column].append(None)
            continue
        ticked = set()
        for label in (part.strip() for part in cell.split(";")):
            if not label:
                continue
            option_id = option_for(question, label)
            if option_id is None:
                unknown.append((row, label))
            else:
                ticked.add(option_id)
        for option in question.options:
            flags[question.option_column(option.id)].append("1" if option.id in ticked else "0")
    return flags, unknown


def _mark_unanswered(out: pd.DataFrame, question: Question) -> None:
    """Exports leave unticked options blank: a row with a tick has 0 for the rest, one without none."""
    columns = question.option_columns
    present = [c for c in columns if c in out]
    answered = out[present].eq("1").any(axis=1)
    for column in columns:
        out[column] = np.where(answered, out[column].fillna("0"), None)


def refuse_unmatched(path: Path, plan: list[Target | None], headings: list[str], codebook: Codebook) -> None:
    """A file none of whose questions is in the codebook is the wrong survey; one with a few unknown
    columns has a changed questionnaire or a wrong export, and is refused before anything is lost. Each
    unknown column is explained: a question or option the codebook does not ask in this wave, or the
    nearest headings the codebook knows."""
    respondent = codebook.respondent
    answers = [t for t in plan if t is not None and (t.question is not None or t.column in respondent.asked_columns)]
    if not answers:
        raise WaveFileRejected(path, f"no question matches the {codebook.survey_id} codebook: is this the right survey?")
    unknown = [h for h, t in zip(headings, plan) if t is None]
    if not unknown:
        return
    explained = [_explain_heading(h, codebook) for h in unknown]
    if all(hint[0] for hint in explained):
        raise WaveFileRejected(path, "; ".join(f"column {h!r}: {hint}" for h, (_, hint) in zip(unknown, explained)))
    raise WaveFileRejected(
        path, f"columns match no question of the {codebook.survey_id} codebook: "
        + "; ".join(f"{h!r} ({hint})" for h, (_, hint) in zip(unknown, explained))
        + ". If a column is one of the codebook's questions under another heading, add that heading to the "
        "question's aliases"
    )


def _explain_heading(heading: str, codebook: Codebook) -> tuple[bool, str]:
    """(True, why) when the heading is a question or option not asked in this wave; else (False, the
    nearest headings of the codebook)."""
    # Layouts show a heading with its tool's id ("Q5_7 (wording)"): try the parts too.
    parts = re.fullmatch(r"(.*) \((.*)\)", heading)
    for candidate in [heading, *(parts.groups() if parts else ())]:
        hint = codebook.not_asked_heading(candidate)
        if hint is not None:
            return True, hint
    known = {fold(name): name for name in known_headings(codebook)}
    nearest = difflib.get_close_matches(fold(heading), list(known), n=3, cutoff=0.6)
    return False, ("nearest: " + ", ".join(repr(known[n]) for n in nearest)) if nearest else "nothing close"


def known_headings(codebook: Codebook) -> list[str]:
    """Every heading a column of an export of this questionnaire may carry: respondent fields, question
    ids and wordings (every version, aliases), option columns of the plain layout."""
    respondent = codebook.respondent
    names = [respondent.id_column, respondent.submitted_at_column, *respondent.personal_data]
    for spec in (*([respondent.trust] if respondent.trust is not None else []), *respondent.fields):
        names += [spec.column, *spec.headings]
    for question in codebook.questions:
        names += [question.id, *question.headings, *question.option_columns]
    return names


def not_an_option(path: Path, where: str, question: Question, label: str, codebook: Codebook) -> WaveFileRejected:
    """The refusal of a column holding a label that is none of the question's options in this wave: an
    option the codebook does not offer in this wave, or else the nearest labels it has."""
    hint = codebook.not_asked_option(question.id, label)
    if hint is not None:
        return WaveFileRejected(path, f"{where}: {label!r} is not offered in this wave: {hint}")
    labels = {fold(known): known for option in question.options for known in option.labels}
    nearest = difflib.get_close_matches(fold(label), list(labels), n=3, cutoff=0.6)
    return WaveFileRejected(
        path, f"{where}: {label!r} is not an option of {question.id} in the codebook ("
        + (f"nearest: {', '.join(repr(labels[n]) for n in nearest)}; " if nearest else "")
        + "if the export labels an option differently, add its label to that option's aliases)")


def personal(codebook: Codebook, column: str) -> Target:
    """A personal-data column: kept only if the codebook names it (for matching duplicates), never stored."""
    return Target("field", column) if column in codebook.respondent.personal_data else IGNORE


def finish(path: Path, layout: str, grid, plan: list[Target | None], headings: list[str], codebook: Codebook) -> WaveFile:
    refuse_unmatched(path, plan, headings, codebook)
    refuse_double_mapping(path, plan, headings)
    refuse_missing(path, plan, codebook)
    responses, failures = canonical_frame(grid.records, grid.row_numbers, plan, codebook)
    # A label of the codebook's own that this wave did not offer is the questionnaire of another wave,
    # not a respondent's slip: the file is refused saying so, rather than its rows quarantined.
    for question_id, label in failures.loc[failures["rule"] == RULE_OPTION_LABEL, ["column_name", "offending_value"]
                                           ].drop_duplicates().itertuples(index=False):
        hint = codebook.not_asked_option(question_id, label)
        if hint is not None:
            question = next(q for q in codebook.questions if q.id == question_id)
            raise WaveFileRejected(path, f"column {question.wording!r}: {label!r} is not offered in this wave: {hint}")
    malformed = pd.DataFrame(grid.malformed, columns=ROW_FAILURE_COLUMNS)
    row_failures = pd.concat([f for f in (failures, malformed) if not f.empty], ignore_index=True) if (
        not failures.empty or not malformed.empty) else failures
    return WaveFile(layout, responses, row_failures, malformed_rows=len(grid.malformed), encoding=grid.encoding,
                    note=grid.note)
