"""The survey codebook: its model, its rules and how to load it.

A codebook (one YAML file per survey under ``schemas/codebooks/``) is the single source of truth for a
survey: question ids, types, wording, option ids and labels, personal-data columns, waves and the
indicator catalogue. This module turns the YAML into validated, immutable objects and refuses a
codebook that contradicts itself, with an error naming the file and the field.

What does not belong here: the indicator catalogue derived from a codebook (``schemas.indicator_catalogue``),
the pandera schema built from it (``schemas.response_schema``), and anything that touches data or the warehouse.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.indicator_catalogue import BUILT_IN_INDICATORS, option_indicator_id

BUNDLED_CODEBOOKS_DIR = Path(__file__).parent / "codebooks"

# Ids become column names, SQL values and parts of indicator ids ("question.option"), so keep them plain.
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
SURVEY_ID = r"^[a-z][a-z0-9-]*$"
WAVE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"



class CodebookError(ValueError):
    """A codebook file that cannot be used, with the file and the offending field in the message."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    id: str = Field(pattern=IDENTIFIER)
    label: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()  # other labels an export may use for this option
    asked_in: tuple[str, ...] | None = None  # wave ids in which the option was offered; None: every wave

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


class Rewording(_Strict):
    wave: str
    wording: str = Field(min_length=1)


class Question(_Strict):
    id: str = Field(pattern=IDENTIFIER)
    type: Literal["single", "multiple", "text"]
    title: str = Field(min_length=1)
    wording: str = Field(min_length=1)
    required: bool = False
    options: tuple[Option, ...] = ()
    max_length: int | None = Field(default=None, gt=0)
    aliases: tuple[str, ...] = ()  # other headings an export may use for this question
    tool_ids: dict[str, str] = Field(default_factory=dict)  # e.g. {qualtrics: Q3, spss: q3}
    asked_in: tuple[str, ...] | None = None  # wave ids in which the question was asked; None: every wave
    rewordings: tuple[Rewording, ...] = ()  # wording changes, each from a wave on

    @property
    def headings(self) -> tuple[str, ...]:
        return (self.wording, *(r.wording for r in self.rewordings), *self.aliases)

    @model_validator(mode="after")
    def _options_fit_type(self) -> Question:
        if self.type == "text":
            if self.options:
                raise ValueError(f"text question {self.id!r} cannot have options")
            if self.max_length is None:
                raise ValueError(f"text question {self.id!r} needs max_length")
        else:
            if len(self.options) < 2:
                raise ValueError(f"{self.type}-choice question {self.id!r} needs at least two options")
            if self.max_length is not None:
                raise ValueError(f"max_length applies to text questions only, not {self.id!r}")
            _refuse_duplicates([o.id for o in self.options], f"option ids of {self.id!r}")
            _refuse_duplicates([_fold(label) for o in self.options for label in o.labels], f"option labels of {self.id!r}")
        return self

    def option_column(self, option_id: str) -> str:
        """Column holding the 0/1 flag of one option of a multiple-choice question."""
        return option_indicator_id(self.id, option_id)

    @property
    def option_columns(self) -> list[str]:
        return [self.option_column(o.id) for o in self.options] if self.type == "multiple" else []

    @property
    def columns(self) -> list[str]:
        """The columns this question occupies in the plain CSV layout."""
        return self.option_columns if self.type == "multiple" else [self.id]


class TrustField(_Strict):
    column: str = Field(pattern=IDENTIFIER)
    wording: str
    aliases: tuple[str, ...] = ()
    tool_ids: dict[str, str] = Field(default_factory=dict)

    @property
    def headings(self) -> tuple[str, ...]:
        return (self.wording, *self.aliases)


class RoleField(TrustField):
    options: tuple[Option, ...] = Field(min_length=2)


class Respondent(_Strict):
    id_column: str = Field(pattern=IDENTIFIER)
    submitted_at_column: str = Field(pattern=IDENTIFIER)
    trust: TrustField
    role: RoleField
    # Columns that identify a person (canonical names: `name`, `email`, `ip_address`, ...): read for
    # matching duplicates, never stored. Exports may lack them.
    personal_data: tuple[str, ...] = ()
    # Whether partial responses (unfinished, or with no completion time) count; if not, quarantined.
    count_partial: bool = False

    @property
    def columns(self) -> list[str]:
        return [self.id_column, self.submitted_at_column, self.trust.column, self.role.column]


class Wave(_Strict):
    id: str = Field(pattern=WAVE_ID)
    fieldwork_start: dt.date
    fieldwork_end: dt.date
    population_trusts: int = Field(gt=0)
    synthetic: bool = False

    @model_validator(mode="after")
    def _fieldwork_in_order(self) -> Wave:
        if self.fieldwork_end < self.fieldwork_start:
            raise ValueError(f"wave {self.id!r} ends before it starts")
        return self


class Reporting(_Strict):
    min_base: int = Field(default=10, ge=1)
    confidence_level: float = Field(default=0.95, gt=0, lt=1)
    significance_level: float = Field(default=0.05, gt=0, lt=1)


class Composite(_Strict):
    id: str
    question: str = Field(pattern=IDENTIFIER)
    options: tuple[str, ...] = Field(min_length=2)
    label: str = Field(min_length=1)


class IndicatorCatalogue(_Strict):
    composites: tuple[Composite, ...] = ()
    headline: tuple[str, ...] = ()


class Codebook(_Strict):
    survey_id: str = Field(pattern=SURVEY_ID)
    title: str
    publisher: str
    version: str
    reporting: Reporting = Reporting()
    waves: tuple[Wave, ...] = Field(min_length=1)
    respondent: Respondent
    questions: tuple[Question, ...] = Field(min_length=1)
    indicators: IndicatorCatalogue = IndicatorCatalogue()

    @model_validator(mode="after")
    def _consistent(self) -> Codebook:
        _refuse_duplicates([w.id for w in self.waves], "wave ids")
        waves = [w.id for w in self.waves]
        for question in self.questions:
            named = list(question.asked_in or ()) + [r.wave for r in question.rewordings]
            named += [w for o in question.options for w in (o.asked_in or ())]
            unknown = sorted(set(named) - set(waves))
            if unknown:
                raise ValueError(f"question {question.id!r} names waves not in `waves`: {unknown}")
        _refuse_duplicates([q.id for q in self.questions], "question ids")
        _refuse_duplicates(self.expected_columns, "column names (respondent fields, personal data and questions)")
        questions = {q.id: q for q in self.questions}
        for composite in self.indicators.composites:
            question = questions.get(composite.question)
            if question is None or question.type == "text":
                raise ValueError(
                    f"composite {composite.id!r} refers to {composite.question!r}, "
                    "which is not a single- or multiple-choice question"
                )
            if not composite.id.startswith(f"{composite.question}."):
                raise ValueError(f"composite id {composite.id!r} must start with '{composite.question}.'")
            unknown = sorted(set(composite.options) - {o.id for o in question.options})
            if unknown:
                raise ValueError(f"composite {composite.id!r} names unknown options {unknown}")
        option_indicators = {option_indicator_id(q.id, o.id) for q in self.choice_questions for o in q.options}
        clash = sorted(option_indicators & {c.id for c in self.indicators.composites})
        if clash:
            raise ValueError(f"composite ids {clash} clash with option indicators of the same name")
        known = option_indicators | {c.id for c in self.indicators.composites} | set(BUILT_IN_INDICATORS)
        unknown_headline = [i for i in self.indicators.headline if i not in known]
        if unknown_headline:
            raise ValueError(f"headline lists unknown indicators {unknown_headline}")
        _refuse_duplicates(list(self.indicators.headline), "headline indicators")
        return self

    # --- derived views -------------------------------------------------------------------------

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def wave(self, wave_id: str) -> Wave:
        for wave in self.waves:
            if wave.id == wave_id:
                return wave
        known = ", ".join(w.id for w in self.waves)
        raise KeyError(f"wave {wave_id!r} is not declared in the {self.survey_id} codebook (known: {known})")

    def wave_order(self, wave_id: str) -> int:
        return [w.id for w in self.waves].index(self.wave(wave_id).id)

    def wording_in(self, question: Question, wave_id: str) -> str:
        """The question's wording in a wave: the latest rewording from that wave or before."""
        order = self.wave_order(wave_id)
        wording = question.wording
        for change in sorted(question.rewordings, key=lambda r: self.wave_order(r.wave)):
            if self.wave_order(change.wave) <= order:
                wording = change.wording
        return wording

    def for_wave(self, wave_id: str) -> Codebook:
        """The questionnaire as asked in one wave: only its questions and options, in that wave's wording
        (the other wordings stay as aliases, so an export of any version is still recognised)."""
        self.wave(wave_id)  # refuse an unknown wave
        questions = []
        for question in self.questions:
            if question.asked_in is not None and wave_id not in question.asked_in:
                continue
            options = tuple(o for o in question.options if o.asked_in is None or wave_id in o.asked_in)
            wording = self.wording_in(question, wave_id)
            others = tuple(h for h in question.headings if h != wording)
            questions.append(question.model_copy(update={"options": options, "wording": wording,
                                                         "aliases": others, "rewordings": ()}))
        return self.model_copy(update={"questions": tuple(questions)})

    def comparable_questions(self, wave_a: str, wave_b: str) -> frozenset[str]:
        """The questions whose answers can be compared between two waves: asked in both, with the same
        wording and the same options."""
        a = {q.id: q for q in self.for_wave(wave_a).questions}
        b = {q.id: q for q in self.for_wave(wave_b).questions}
        return frozenset(
            qid for qid, qa in a.items()
            if qid in b and qa.wording == b[qid].wording and [o.id for o in qa.options] == [o.id for o in b[qid].options]
        )

    @property
    def choice_questions(self) -> list[Question]:
        return [q for q in self.questions if q.type != "text"]

    @property
    def expected_columns(self) -> list[str]:
        """Every column of the plain CSV layout, in codebook order."""
        columns = self.respondent.columns + list(self.respondent.personal_data)
        for question in self.questions:
            columns += question.columns
        return columns


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00a0": " "})


def _fold(text: str) -> str:
    """The form in which headings and labels are compared: case, surrounding and repeated white space,
    curly versus straight quotes and non-breaking spaces do not matter."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().casefold()


fold = _fold


def _refuse_duplicates(values: list[str], what: str) -> None:
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise ValueError(f"{what} must be unique; repeated: {repeated}")


# libyaml's parser when PyYAML was built with it: the pure-Python one takes a quarter of a second per codebook.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_codebook(path: Path | str) -> Codebook:
    """Read and validate one codebook file; raise CodebookError naming the file and field on any fault.

    Parsed once per process for each version of the file (its modification time and size), since every
    step of a run asks for the codebooks."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read codebook: {exc.strerror or exc}") from exc
    return _parse_codebook(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _parse_codebook(path_text: str, mtime_ns: int, size: int) -> Codebook:
    path = Path(path_text)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read codebook: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CodebookError(f"{path}: a codebook must be a mapping of fields, got {type(raw).__name__}")
    try:
        return Codebook.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise CodebookError(f"{path}: invalid codebook: {problems}") from exc


def load_codebooks(*directories: Path | str) -> dict[str, Codebook]:
    """Every codebook (``*.yaml``) in the given folders, by survey id; later folders override earlier ones."""
    codebooks: dict[str, Codebook] = {}
    for directory in directories:
        directory = Path(directory)
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")):
            codebook = load_codebook(path)
            codebooks[codebook.survey_id] = codebook
    return codebooks
