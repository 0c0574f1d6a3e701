"""A codebook's questions and their options: the model of one question, and the rules it meets alone.

A question has a type (single choice, multiple choice, a scale, free text), its wording and its
rewordings from a wave on, its options (with scores, short labels, base and exclusivity rules), the
waves that asked it (``asked_in``, ``asked_from``), and whom it was asked of (``asked_if``). Each rule that
needs nothing but the question itself is checked here, as the question is read; the rules that span
questions (routes naming an earlier question, composites, report sections) are the codebook's
(``schemas.codebook``). ``fold`` is how headings and labels are compared everywhere.

What does not belong here: the codebook around the questions (``schemas.codebook``), named scales and
grids as written in YAML (``schemas.scales``), and anything that touches data.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from schemas.indicator_catalogue import POSITIVE, option_indicator_id
from schemas.reporting import IDENTIFIER
from schemas.strict import Strict as _Strict


class _AskedInWaves(_Strict):
    """A question or option that was not asked in every wave: either the waves listed (``asked_in``) or
    every wave from one on (``asked_from``, open-ended, by fieldwork start)."""

    asked_in: tuple[str, ...] | None = None
    asked_from: str | None = None

    @model_validator(mode="after")
    def _one_limit(self):
        if self.asked_in is not None and self.asked_from is not None:
            raise ValueError(f"{getattr(self, 'id', '')!r} gives both asked_in and asked_from: keep one")
        return self

    @property
    def named_waves(self) -> list[str]:
        return list(self.asked_in or ()) + ([self.asked_from] if self.asked_from else [])

    @property
    def asked_when(self) -> str:
        if self.asked_from is not None:
            return f"from wave {self.asked_from} on (asked_from)"
        if self.asked_in is not None:
            return f"only in wave{'s' if len(self.asked_in) != 1 else ''} {', '.join(self.asked_in)} (asked_in)"
        return "in every wave"


class Option(_AskedInWaves):
    id: str = Field(pattern=IDENTIFIER)
    label: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()  # other labels an export may use for this option
    # What charts and the brief call the option when its label is a sentence (the label stays what
    # respondents read and what exports hold).
    short_label: str | None = Field(default=None, min_length=1, max_length=40)
    # A scale question's point on its scale (0-10 for the NHS Staff Survey's agreement items).
    score: float | None = None
    # "Don't know", "Not applicable": accepted, stored and counted, but in no share's base, score or mean,
    # and with no share of its own.
    exclude_from_base: bool = False
    # "None of these" in a multiple-choice question: ticked with any other option, the row is refused.
    exclusive: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)

    @property
    def shown_as(self) -> str:
        """The option's name for people in charts and sentences: its short label, else its label."""
        return self.short_label or self.label


class Rewording(_Strict):
    wave: str
    wording: str = Field(min_length=1)


QuestionType = Literal["single", "multiple", "text", "scale", "numeric"]


class Route(_Strict):
    """Who is asked a question: the respondents whose answer to an earlier choice question is one of
    ``in`` (for a multiple-choice question: who ticked one of them). ``{question: qi_training, in: [yes]}``."""

    model_config = ConfigDict(populate_by_name=True)
    question: str = Field(pattern=IDENTIFIER)
    options: tuple[str, ...] = Field(alias="in", min_length=1)


class Question(_AskedInWaves):
    id: str = Field(pattern=IDENTIFIER)
    type: QuestionType
    title: str = Field(min_length=1)
    wording: str = Field(min_length=1)
    required: bool = False
    options: tuple[Option, ...] = ()
    max_length: int | None = Field(default=None, gt=0)
    aliases: tuple[str, ...] = ()  # other headings an export may use for this question
    tool_ids: dict[str, str] = Field(default_factory=dict)  # e.g. {qualtrics: Q3, spss: q3}
    rewordings: tuple[Rewording, ...] = ()  # wording changes, each from a wave on
    # The id this question had before (a rename, declared so that loaded waves' answers stay its answers,
    # and a plain CSV headed with the old id still reads); without it, a vanished id is a removal.
    renamed_from: str | None = Field(default=None, pattern=IDENTIFIER)
    # The heading of the leadership pack it is reported under (``Codebook.report_sections``); its title is
    # its short label there. Not ``section``, which the warehouse's `questions` uses for respondent field
    # or question.
    report_section: str | None = Field(default=None, pattern=IDENTIFIER)
    # A scale question: the named scale its options come from (``schemas.scales``), and the options whose
    # share is its positive score (agree and strongly agree).
    scale: str | None = Field(default=None, pattern=IDENTIFIER)
    positive: tuple[str, ...] = ()
    # A grid item: the grid's stem wording, which exports put before the item's own wording.
    grid_stem: str | None = Field(default=None, min_length=1)
    # Routing ("if yes, ..."): asked only of respondents whose earlier answer meets the condition; its base
    # is those routed to it who answered, and an answer given where it was not asked is cleaned away
    # (``cleaning_log``, rule ``not_routed``).
    asked_if: Route | None = None
    # A numeric question: whole numbers only (``integer``), and the smallest and largest answer accepted
    # (``min``, ``max`` in the codebook), both inclusive.
    integer: bool = False
    minimum: float | None = Field(default=None, alias="min")
    maximum: float | None = Field(default=None, alias="max")
    # A numeric question's indicators, when not both its mean and its median (a 0-10 rating: the mean alone).
    statistics: tuple[Literal["mean", "median"], ...] | None = Field(default=None, min_length=1)

    model_config = ConfigDict(populate_by_name=True)

    @property
    def headings(self) -> tuple[str, ...]:
        """Every heading an export may give the question's column: its wordings and aliases, and for a grid
        item each after the grid's stem, as tools head a grid's columns (Qualtrics "<stem> - <item>",
        SurveyMonkey's two header rows read as "<stem> / <item>")."""
        own = self.own_headings
        if self.grid_stem is None:
            return own
        return (*own, *(f"{self.grid_stem}{separator}{wording}" for wording in own for separator in (" - ", " / ")))

    @property
    def own_headings(self) -> tuple[str, ...]:
        """The question's wordings and aliases, without a grid's stem."""
        return (self.wording, *(r.wording for r in self.rewordings), *self.aliases)

    @property
    def answer_kind(self) -> Literal["single", "multiple", "text", "numeric"]:
        """How an answer is held: one option (single-choice and scale questions), options ticked, text, or
        a number."""
        return "single" if self.type == "scale" else self.type

    @property
    def is_choice(self) -> bool:
        """Whether answers are options (single choice, scale or multiple choice)."""
        return self.type in ("single", "multiple", "scale")

    @property
    def base_options(self) -> tuple[Option, ...]:
        """The options whose respondents make the question's base: all but those excluded from it."""
        return tuple(o for o in self.options if not o.exclude_from_base)

    @model_validator(mode="after")
    def _options_fit_type(self) -> Question:
        if self.type != "numeric" and (self.integer or self.minimum is not None or self.maximum is not None
                                       or self.statistics is not None):
            raise ValueError(f"{self.type} question {self.id!r} gives integer, min, max or statistics, which only a "
                             "numeric question (type: numeric) has")
        refuse_duplicates(list(self.statistics or ()), f"statistics of {self.id!r}")
        if self.type in ("text", "numeric"):
            if self.options:
                raise ValueError(f"{self.type} question {self.id!r} cannot have options")
            if self.type == "text" and self.max_length is None:
                raise ValueError(f"text question {self.id!r} needs max_length")
            if self.type == "numeric" and self.max_length is not None:
                raise ValueError(f"max_length applies to text questions only, not {self.id!r}")
            if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
                raise ValueError(f"numeric question {self.id!r} has min {self.minimum:g} above max {self.maximum:g}")
        else:
            if len(self.options) < 2:
                raise ValueError(f"{self.type}-choice question {self.id!r} needs at least two options")
            if self.max_length is not None:
                raise ValueError(f"max_length applies to text questions only, not {self.id!r}")
            refuse_duplicates([o.id for o in self.options], f"option ids of {self.id!r}")
            refuse_duplicates([fold(label) for o in self.options for label in o.labels], f"option labels of {self.id!r}")
            if not self.base_options:
                raise ValueError(f"every option of {self.id!r} is excluded from the base: its shares would have no base")
        self._check_scale_rules()
        return self

    def _check_scale_rules(self) -> None:
        """Scores, positive options and exclusive options where the question type gives them a meaning."""
        scored = [o.id for o in self.options if o.score is not None]
        exclusive = [o.id for o in self.options if o.exclusive]
        if exclusive and self.type != "multiple":
            raise ValueError(f"options {exclusive} of {self.id!r} are exclusive, which only a multiple-choice "
                             "question's options can be")
        if self.type != "scale":
            if scored or self.positive or self.scale:
                raise ValueError(f"{self.type} question {self.id!r} gives scores, positive options or a scale: "
                                 "only a scale question (type: scale) has them")
            return
        unscored = [o.id for o in self.base_options if o.score is None]
        if unscored:
            raise ValueError(f"scale question {self.id!r}: options {unscored} need a score (or exclude_from_base: true)")
        excluded_scored = [o.id for o in self.options if o.exclude_from_base and o.score is not None]
        if excluded_scored:
            raise ValueError(f"scale question {self.id!r}: options {excluded_scored} are excluded from the base "
                             "and cannot have a score")
        ids = {o.id for o in self.base_options}
        unknown = sorted(set(self.positive) - ids)
        if unknown:
            raise ValueError(f"scale question {self.id!r}: positive names {unknown}, which are not its scored options")
        if POSITIVE in {o.id for o in self.options}:
            raise ValueError(f"scale question {self.id!r} has an option id {POSITIVE!r}, which its positive "
                             f"score's indicator ({self.id}.{POSITIVE}) uses")

    def option_column(self, option_id: str) -> str:
        """Column holding the 0/1 flag of one option of a multiple-choice question."""
        return option_indicator_id(self.id, option_id)

    @property
    def option_columns(self) -> list[str]:
        return [self.option_column(o.id) for o in self.options] if self.type == "multiple" else []

    @property
    def exclusive_columns(self) -> list[str]:
        """The 0/1 columns of a multiple-choice question's exclusive options ("None of these")."""
        return [self.option_column(o.id) for o in self.options if o.exclusive]

    @property
    def columns(self) -> list[str]:
        """The columns this question occupies in the plain CSV layout."""
        return self.option_columns if self.type == "multiple" else [self.id]


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00a0": " "})


def fold(text: str) -> str:
    """The form in which headings and labels are compared: case, surrounding and repeated white space,
    curly versus straight quotes and non-breaking spaces do not matter."""
    # str.split() splits at exactly the characters the regex \s matches (str.isspace), a twentieth of the
    # time of re.sub. Only text outside ASCII can hold a curly quote, and translate() looks up every
    # character (most of the time).
    if not text.isascii():
        text = text.translate(_QUOTES)
    return " ".join(text.split()).casefold()


def refuse_duplicates(values: list[str], what: str) -> None:
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise ValueError(f"{what} must be unique; repeated: {repeated}")
