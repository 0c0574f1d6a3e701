"""The indicator catalogue: every indicator a survey reports, derived from its codebook.

- a share for every option of every single-choice, scale and multiple-choice question,
  ``<question_id>.<option_id>``, except options excluded from the base ("Don't know");
- a scale question's positive score, ``<question_id>.positive``: the share choosing its positive options;
- the composites the codebook declares (several options of one question added up);
- the built-ins: the counts ``respondents`` and ``trusts_responding``, and ``trust_coverage``.

The warehouse stores the catalogue (table ``indicators``) and the indicator SQL reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from schemas.codebook import Codebook

RESPONDENTS, TRUSTS_RESPONDING, COVERAGE_INDICATOR = "respondents", "trusts_responding", "trust_coverage"
POSITIVE = "positive"  # the last part of a scale question's positive score's id
BUILT_IN_INDICATORS: dict[str, tuple[Literal["count", "coverage"], str]] = {
    RESPONDENTS: ("count", "Respondents"),
    TRUSTS_RESPONDING: ("count", "Trusts responding"),
    COVERAGE_INDICATOR: ("coverage", "Trusts responding, % of trusts in the wave's population"),
}


def option_indicator_id(question_id: str, option_id: str) -> str:
    """The id of an option's share, which is also its 0/1 column name in the plain layout."""
    return f"{question_id}.{option_id}"


@dataclass(frozen=True)
class Indicator:
    id: str
    kind: Literal["share", "count", "coverage"]
    label: str
    question_id: str | None = None
    option_ids: tuple[str, ...] = ()
    headline_order: int | None = None  # position in the headline table; None if not a headline


def indicator_catalogue(codebook: Codebook) -> list[Indicator]:
    order = {indicator_id: n for n, indicator_id in enumerate(codebook.indicators.headline, start=1)}
    catalogue = []
    for question in codebook.choice_questions:
        for option in question.base_options:
            indicator_id = option_indicator_id(question.id, option.id)
            catalogue.append(
                Indicator(indicator_id, "share", f"{question.title}: {option.label}", question.id,
                          (option.id,), order.get(indicator_id))
            )
        if question.positive:
            indicator_id = option_indicator_id(question.id, POSITIVE)
            chosen = [o.label for o in question.options if o.id in question.positive]
            catalogue.append(
                Indicator(indicator_id, "share", f"{question.title}: {' or '.join(chosen)} (positive score)",
                          question.id, tuple(question.positive), order.get(indicator_id))
            )
    for composite in codebook.indicators.composites:
        title = codebook.question(composite.question).title
        catalogue.append(
            Indicator(composite.id, "share", f"{title}: {composite.label}", composite.question,
                      composite.options, order.get(composite.id))
        )
    for indicator_id, (kind, label) in BUILT_IN_INDICATORS.items():
        catalogue.append(Indicator(indicator_id, kind, label, headline_order=order.get(indicator_id)))
    return catalogue
