"""How a codebook says its survey is reported: suppression and statistical levels, breakdown groups
pooled together, the leadership pack's report sections, composites and the headline list.

These are the parts of a codebook that label, group and select figures for people; the questionnaire
itself (questions, options, respondent fields, waves) and the rules tying the two together are
``schemas.codebook``'s. What does not belong here: the indicator catalogue derived from a codebook
(``schemas.indicator_catalogue``), and anything that computes a figure (``warehouse``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.strict import Strict as _Strict

# Ids become column names, SQL values and parts of indicator ids ("question.option"), so keep them plain.
IDENTIFIER = r"^[a-z][a-z0-9_]*$"


class Reporting(_Strict):
    min_base: int = Field(default=10, ge=1)
    confidence_level: float = Field(default=0.95, gt=0, lt=1)
    significance_level: float = Field(default=0.05, gt=0, lt=1)
    # Per breakdown dimension, groups of the reference list reported together under one name: a group
    # of one or two trusts is below the base in every wave, and left alone it would make secondary
    # suppression hide a whole other group. Groups not named are reported under their own name.
    # The rule is applied once, in warehouse/sql/breakdown_values.sql.
    pooled_groups: dict[Literal["trust_type", "region"], dict[str, str]] = Field(default_factory=dict)


class ReportSection(_Strict):
    """A heading of the leadership pack, in the order listed, with the questions that name it."""

    id: str = Field(pattern=IDENTIFIER)
    heading: str = Field(min_length=1)


class Composite(_Strict):
    id: str
    question: str = Field(pattern=IDENTIFIER)
    options: tuple[str, ...] = Field(min_length=2)
    label: str = Field(min_length=1)


class IndicatorCatalogue(_Strict):
    composites: tuple[Composite, ...] = ()
    headline: tuple[str, ...] = ()
