"""The indicator catalogue: every indicator a survey reports, derived from its codebook.

- a share for every option of every single-choice, scale and multiple-choice question,
  ``<question_id>.<option_id>``, except options excluded from the base ("Don't know");
- a scale question's positive score, ``<question_id>.positive``: the share choosing its positive options;
  and its mean score, ``<question_id>.score``: the mean of its respondents' scores;
- a numeric question's mean and median, ``<question_id>.mean`` and ``<question_id>.median``;
- the composites the codebook declares: several options of one question added up, or a range of a numeric
  question's answers (both shares);
- the themes the codebook declares, ``<theme_id>.score``: the mean of respondents' mean scores on its items;
- the built-ins: the counts ``respondents`` and ``trusts_responding``, and ``trust_coverage``.

The warehouse stores the catalogue (table ``indicators``) and the indicator SQL reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from schemas.codebook import Codebook

RESPONDENTS, TRUSTS_RESPONDING, COVERAGE_INDICATOR = "respondents", "trusts_responding", "trust_coverage"
POSITIVE = "positive"  # the last part of a scale question's positive score's id
SCORE, MEAN, MEDIAN = "score", "mean", "median"  # the last parts of mean scores', means' and medians' ids
BUILT_IN_INDICATORS: dict[str, tuple[Literal["count", "coverage"], str]] = {
    RESPONDENTS: ("count", "Respondents"),
    TRUSTS_RESPONDING: ("count", "Trusts responding"),
    COVERAGE_INDICATOR: ("coverage", "Trusts responding, % of trusts in the wave's population"),
}


def option_indicator_id(question_id: str, option_id: str) -> str:
    """The id of an option's share, which is also its 0/1 column name in the plain layout."""
    return f"{question_id}.{option_id}"


IndicatorKind = Literal["share", "mean", "median", "count", "coverage"]


@dataclass(frozen=True)
class Indicator:
    id: str
    kind: IndicatorKind
    label: str
    question_id: str | None = None  # None for a theme (``items``) and the built-ins
    option_ids: tuple[str, ...] = ()  # the options a share counts
    headline_order: int | None = None  # position in the headline table; None if not a headline
    between: tuple[float, float] | None = None  # a share of a numeric question's answers in this range
    items: tuple[str, ...] = ()  # a theme's scale questions
    min_items: int | None = None  # a theme's respondent counts if they answered at least this many items


def indicator_catalogue(codebook: Codebook) -> list[Indicator]:
    catalogue = []
    for question in codebook.choice_questions:
        for option in question.base_options:
            indicator_id = option_indicator_id(question.id, option.id)
            catalogue.append(
                Indicator(indicator_id, "share", f"{question.title}: {option.label}", question.id,
                          (option.id,))
            )
        if question.positive:
            indicator_id = option_indicator_id(question.id, POSITIVE)
            chosen = [o.label for o in question.options if o.id in question.positive]
            catalogue.append(
                Indicator(indicator_id, "share", f"{question.title}: {' or '.join(chosen)} (positive score)",
                          question.id, tuple(question.positive))
            )
        if question.type == "scale":
            indicator_id = option_indicator_id(question.id, SCORE)
            scores = [o.score for o in question.base_options]
            catalogue.append(Indicator(indicator_id, "mean", f"{question.title}: mean score ({min(scores):g} to "
                                       f"{max(scores):g})", question.id))
    for question in (q for q in codebook.questions if q.type == "numeric"):
        for kind, words in ((MEAN, "mean"), (MEDIAN, "median")):
            if question.statistics is not None and kind not in question.statistics:
                continue  # the codebook asks for the other alone
            indicator_id = option_indicator_id(question.id, kind)
            catalogue.append(Indicator(indicator_id, kind, f"{question.title}: {words}", question.id))
    for composite in codebook.indicators.composites:
        title = codebook.question(composite.question).title
        catalogue.append(
            Indicator(composite.id, "share", f"{title}: {composite.label}", composite.question,
                      composite.options, between=composite.between)
        )
    for theme in codebook.indicators.themes:
        indicator_id = option_indicator_id(theme.id, SCORE)
        catalogue.append(Indicator(indicator_id, "mean", f"{theme.label} (theme score)",
                                   items=theme.items,
                                   min_items=theme.min_items))
    for indicator_id, (kind, label) in BUILT_IN_INDICATORS.items():
        if codebook.respondent.trust is None and indicator_id != RESPONDENTS:
            continue  # no trust asked: no trusts to count or cover
        catalogue.append(Indicator(indicator_id, kind, label))
    # The headline: the codebook's list, in its order; without one, every indicator, in catalogue order.
    headline = codebook.indicators.headline or [i.id for i in catalogue]
    order = {indicator_id: n for n, indicator_id in enumerate(headline, start=1)}
    return [replace(i, headline_order=order.get(i.id)) for i in catalogue]
