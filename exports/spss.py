"""SPSS (.sav), read with pyreadstat: variable labels carry the wording, value labels the option labels.

Multiple-choice questions are recognised by SPSS multiple-response sets (dichotomy sets: the set's label
is the wording, each variable's label its option) or, without sets, by variable labels of the form
``<wording> - <option label>`` as survey tools write them. Qualtrics' variable names (ResponseId,
RecordedDate, Finished...) and the plain layout's names are understood. Rows are SPSS case numbers.
"""

from __future__ import annotations

from pathlib import Path

from exports.base import Target, WaveFile, WaveFileRejected, finish, not_an_option, option_for
from exports.grid import Grid
from exports.matching import HeadingMatcher
from exports.plain_csv import plan_for as plain_plan
from exports.qualtrics import metadata_targets
from schemas.codebook import Codebook
from schemas.questions import fold

NAME = "spss"


def read(path: Path, codebook: Codebook) -> WaveFile:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path))
    except Exception as exc:  # pyreadstat raises its own ReadstatError and plain errors alike
        raise WaveFileRejected(path, f"not a readable SPSS file: {exc}") from exc
    if frame.empty:
        raise WaveFileRejected(path, "the file has no cases")
    labels = meta.column_names_to_labels or {}
    value_labels = meta.variable_value_labels or {}
    in_set = {}
    for name, mr_set in (meta.mr_sets or {}).items():
        if not mr_set.get("is_dichotomy", mr_set.get("type") == "D"):
            raise WaveFileRejected(path, f"multiple-response set {name!r} is a category set; "
                                   "export multiple-choice questions as dichotomy sets (one 0/1 variable per option)")
        for variable in mr_set.get("variable_list", []):
            in_set[variable] = mr_set
    matcher = HeadingMatcher(codebook, tool=NAME)
    known = {**plain_plan(codebook), **metadata_targets(codebook)}
    plan, headings = [], []
    for variable in frame.columns:
        wording = labels.get(variable) or ""
        headings.append(f"{variable} ({wording})" if wording else variable)
        target = known.get(fold(variable)) or matcher.by_tool_id(variable)
        if target is None:
            target = _answer_target(path, variable, wording, in_set.get(variable), matcher)
        plan.append(target)
        if target is None:
            continue
        if target.kind == "single" and variable in value_labels:
            question = target.question or codebook.respondent.field(target.column)
            codes = {code: _untruncated(label, question) for code, label in value_labels[variable].items()}
            frame[variable] = frame[variable].map(lambda v, codes=codes: codes.get(v, v))
        if target.kind == "option" and variable in in_set:
            counted = in_set[variable].get("counted_value", 1)
            frame[variable] = frame[variable].map(lambda v, c=counted: None if v != v else ("1" if str(v) == str(c) or v == c else "0"))
    records = frame.astype(object).where(frame.notna(), None).values.tolist()
    grid = Grid(headers=[list(frame.columns)], records=records, row_numbers=list(range(1, len(records) + 1)), malformed=[])
    return finish(path, NAME, grid, plan, headings, codebook)


# SPSS keeps at most 120 bytes of a value label; longer option labels arrive cut short.
VALUE_LABEL_BYTES = 120


def _untruncated(label: str, question) -> str:
    """The codebook's label of which a value label is the first 120 bytes, if exactly one matches."""
    if len(label.encode("utf-8")) < VALUE_LABEL_BYTES - 4:
        return label
    matches = [o.label for o in question.options if fold(o.label).startswith(fold(label))]
    return matches[0] if len(matches) == 1 else label


def _answer_target(path: Path, variable: str, wording: str, mr_set: dict | None, matcher: HeadingMatcher) -> Target | None:
    if mr_set is not None:
        question = matcher.multiple_choice(mr_set.get("label"))
        label = wording
    else:
        target = matcher.by_heading(wording)
        if target is not None and target.kind != "multiple":
            return target
        split = matcher.split_question_option(wording)
        if split is None:
            return None
        question, label = split
    if question is None:
        return None
    option_id = option_for(question, label)
    if option_id is None:
        raise not_an_option(path, f"variable {variable!r}", question, label, matcher.codebook)
    return Target("option", question.option_column(option_id), question, option_id)
