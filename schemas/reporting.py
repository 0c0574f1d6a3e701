"""How a codebook says its survey is reported: suppression and statistical levels, breakdown groups
pooled together, the leadership pack's report sections, composites, themes and the headline list.

These are the parts of a codebook that label, group and select figures for people; the questionnaire
itself (questions, options, respondent fields, waves) and the rules tying the two together are
``schemas.codebook``'s. What does not belong here: the indicator catalogue derived from a codebook
(``schemas.indicator_catalogue``), and anything that computes a figure (``warehouse``).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from schemas.strict import Strict as _Strict

# Ids become column names, SQL values and parts of indicator ids ("question.option"), so keep them plain.
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
# Breakdown dimensions every survey with a trust field has, from the trust reference list; a respondent field
# (``Respondent.fields``) is a dimension by its column's name.
REFERENCE_DIMENSIONS = ("trust_type", "region")


class Reporting(_Strict):
    min_base: int = Field(default=10, ge=1)
    confidence_level: float = Field(default=0.95, gt=0, lt=1)
    significance_level: float = Field(default=0.05, gt=0, lt=1)
    # Per breakdown dimension, groups of the reference list reported together under one name: a group
    # of one or two trusts is below the base in every wave, and left alone it would make secondary
    # suppression hide a whole other group. Groups not named are reported under their own name.
    # The rule is applied once, in warehouse/sql/breakdown_values.sql.
    pooled_groups: dict[str, dict[str, str]] = Field(default_factory=dict)
    # The dimensions indicators are broken down by, in the pack's order: the reference list's trust type and
    # region, and respondent fields by column (an occupational group).
    breakdowns: tuple[str, ...] = REFERENCE_DIMENSIONS
    # What a wave's population_trusts counts, as the brief's coverage line says it ("45% of trusts in England").
    coverage_of: str = Field(default="trusts in England", min_length=1)


class ReportSection(_Strict):
    """A heading of the leadership pack, in the order listed, with the questions that name it."""

    id: str = Field(pattern=IDENTIFIER)
    heading: str = Field(min_length=1)


class Composite(_Strict):
    """A share made of several options of one choice question (``options``: "Fully or mostly aligned"), or of
    a range of a numeric question's answers (``between: [9, 10]``, both inclusive: the top box of a 0-10
    question)."""

    id: str
    question: str = Field(pattern=IDENTIFIER)
    options: tuple[str, ...] = ()
    between: tuple[float, float] | None = None
    label: str = Field(min_length=1)

    @model_validator(mode="after")
    def _options_or_range(self) -> Composite:
        if bool(self.options) == (self.between is not None):
            raise ValueError(f"composite {self.id!r} needs either options or a range (between: [low, high]), "
                             "and not both")
        if self.options and len(self.options) < 2:
            raise ValueError(f"composite {self.id!r} needs at least two options (one option has a share of its own)")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError(f"composite {self.id!r}: between [{self.between[0]:g}, {self.between[1]:g}] is empty")
        return self


class Theme(_Strict):
    """A theme score (the NHS Staff Survey's): the mean over respondents of each respondent's mean score on the
    theme's scale items, counted for respondents who answered at least ``min_items`` of them."""

    id: str = Field(pattern=IDENTIFIER)
    label: str = Field(min_length=1)
    items: tuple[str, ...] = Field(min_length=2)
    min_items: int = Field(default=1, ge=1)


class IndicatorCatalogue(_Strict):
    composites: tuple[Composite, ...] = ()
    themes: tuple[Theme, ...] = ()
    headline: tuple[str, ...] = ()
