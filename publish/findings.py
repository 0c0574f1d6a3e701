"""What the leadership brief says: its findings as sentences and figures, section by section, from the
indicators of one wave.

Findings are told as the survey's published report tells them (NHS Providers, October 2023): grouped
under the codebook's report sections; a single-choice question's distribution in one sentence, a
composite such as "fully or mostly aligned" on its own line, a multiple-choice question's top three. Scales
are told as the NHS Staff Survey tells them: a positive score and a score out of 10 per item, a theme's score
first in the section of its items; a number by its mean and median.
Every figure carries its base. National survey publications (NHS Staff Survey, GP Patient Survey) add
the rest: a change since the previous wave is mentioned only where it is significant, and one sentence
says how many were tested; a plain-words line on intervals and significance; coverage last.

What does not belong here: HTML, charts and print (``publish.brief``), the indicators themselves
(``warehouse``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from schemas.codebook import Codebook
from schemas.indicator_catalogue import (
    COVERAGE_INDICATOR,
    MEAN,
    MEDIAN,
    POSITIVE,
    RESPONDENTS,
    SCORE,
    TRUSTS_RESPONDING,
    option_indicator_id,
)
from publish.weighting_notes import how_weighted
from schemas.questions import Question
from warehouse.connection import read_sql

TOP = 3  # a multiple-choice question is told by its most chosen options, as the published report does
MEASURED = ("mean", "median")  # told on their question's own scale


@dataclass(frozen=True)
class Figure:
    """One figure as the brief shows it: a short label, the share (or a mean or median on its own scale), its
    interval and base, and its change since the previous wave when that change is significant."""

    indicator: str  # its id, for counting changes: never shown
    label: str
    pct: float  # a share's percentage; a mean's or median's value
    ci_low: float
    ci_high: float
    base: int
    change: float | None = None  # points (of a mean: on its scale); only when significant
    previous_wave: str | None = None
    kind: str = "share"
    out_of: float | None = None  # a mean or median out of this (a score out of 10)

    def told(self) -> str:
        """'Operational pressures 80%' or 'score 6.6 out of 10', with a significant change after it."""
        if self.kind in MEASURED:
            text = f"{self.label} {self.pct:.1f}" + (f" out of {self.out_of:g}" if self.out_of is not None else "")
        else:
            text = f"{self.label} {self.pct:.0f}%"
        if self.change is not None:
            direction = "up" if self.change > 0 else "down"
            if self.kind in MEASURED:
                size = f"{abs(self.change):.1f}"
            else:
                size = "less than 1 point" if abs(self.change) < 0.5 else (
                    "1 point" if round(abs(self.change)) == 1 else f"{abs(self.change):.0f} points")
            text += f" ({direction} {size} since {self.previous_wave}, a significant change)"
        return text


@dataclass(frozen=True)
class Finding:
    sentence: str
    figures: tuple[Figure, ...]  # those the sentence gives, in its order


@dataclass(frozen=True)
class Section:
    heading: str
    findings: tuple[Finding, ...]
    chart_title: str | None = None  # the section's first question, charted with all its options
    chart: tuple[Figure, ...] = ()  # sorted, largest first


@dataclass(frozen=True)
class Changes:
    """Changes since an earlier wave among the brief's figures: each figure is compared with the wave its
    indicator was last reported in before (``indicator_trends.previous_wave_id``), usually the wave before."""

    previous_waves: tuple[str, ...]  # the waves the figures were compared with
    tested: int
    significant: int
    not_comparable: int
    first_wave: bool = False  # the survey's first wave: nothing to compare with

    def sentence(self) -> str:
        if not self.previous_waves:
            return ("This is the survey's first wave, so there are no changes to report." if self.first_wave else
                    "No figure above could be compared with an earlier wave.")
        against = self.previous_waves[0] if len(self.previous_waves) == 1 else "earlier waves"
        if self.tested == 0:
            return (f"No figure above could be tested against {against}: "
                    f"{self.not_comparable} could not be compared because the question changed.")
        sentence = (f"Of the {self.tested} figures above compared with {against}, "
                    + ("none changed significantly" if self.significant == 0 else
                       f"{self.significant} changed significantly, as marked" if self.significant > 1 else
                       "1 changed significantly, as marked")
                    + "; other differences are within what chance alone would give and are not reported")
        if self.not_comparable:
            sentence += f"; {self.not_comparable} could not be compared because the question changed"
        return sentence + "."


@dataclass(frozen=True)
class BriefContent:
    sections: tuple[Section, ...]
    changes: Changes
    coverage: str
    suppressed_note: str
    how_to_read: str


def how_to_read(codebook: Codebook) -> str:
    """What the brief's intervals and "significant" mean, in plain words, at the codebook's levels, and how a
    score is made when the survey has scales."""
    reporting = codebook.reporting
    text = (
        "How to read this: each percentage is of those who answered the question, the base shown beside it. "
        f"The whiskers on the bars show the {reporting.confidence_level:.0%} interval: with this many answers, "
        "the figure for everyone the survey asked very likely lies in that range. A change is called significant "
        f"only when it is too large to be put down to chance ({reporting.significance_level:.0%} level); smaller "
        "differences are not reported as rises or falls.")
    if codebook.weighting is not None:
        text += " " + how_weighted(codebook)
    scale = next((q for q in codebook.questions if q.type == "scale"), None)
    if scale is not None:
        points = ", ".join(f"{o.label.lower()} {o.score:g}" for o in scale.base_options)
        positive = " or ".join(o.label.lower() for o in scale.options if o.id in scale.positive)
        text += (f" A score is the mean of each answer's points ({points}); a positive score is the share "
                 f"answering {positive}; a theme's score is the mean of its respondents' scores on its items.")
    return text


def brief_figures(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> pd.DataFrame:
    return con.execute(read_sql("brief_figures"), {"survey_id": survey_id, "wave_id": wave_id}).df().set_index(
        "indicator_id")


def _figure(rows: pd.DataFrame, indicator_id: str, label: str, out_of: float | None = None) -> Figure | None:
    if indicator_id not in rows.index:
        return None
    row = rows.loc[indicator_id]
    measured = row["indicator_kind"] in MEASURED
    value = row["value"] if measured else row["pct"]
    if row["suppressed"] or pd.isna(value):
        return None
    significant = bool(row["significant"]) if pd.notna(row["significant"]) else False
    return Figure(indicator_id, label, float(value), float(row["ci_low"]), float(row["ci_high"]), int(row["base"]),
                  float(row["change"]) if significant else None, row["previous_wave_id"] if significant else None,
                  row["indicator_kind"], out_of)


def _options(rows: pd.DataFrame, question: Question) -> list[Figure]:
    figures = [_figure(rows, option_indicator_id(question.id, o.id), o.shown_as) for o in question.options]
    return [f for f in figures if f is not None]


def _out_of(question: Question) -> float | None:
    """What a question's mean is out of: a scale's top score, or 10 for a 0-10 rating (hours are not "out of
    80": a number's upper bound is a limit, not a scale)."""
    if question.type == "scale":
        return max(o.score for o in question.base_options)
    return 10.0 if question.type == "numeric" and (question.minimum, question.maximum) == (0, 10) else None


def measured_findings(rows: pd.DataFrame, codebook: Codebook, question: Question) -> list[Figure]:
    """A scale question's positive score and score, or a numeric question's mean, median and ranges (in the
    codebook's order of its composites)."""
    out_of = _out_of(question)
    if question.type == "scale":
        figures = [_figure(rows, option_indicator_id(question.id, POSITIVE), "positive"),
                   _figure(rows, option_indicator_id(question.id, SCORE), "score", out_of)]
    else:
        figures = [_figure(rows, option_indicator_id(question.id, MEAN), "mean", out_of),
                   _figure(rows, option_indicator_id(question.id, MEDIAN), "median")]
        figures += [_figure(rows, c.id, c.label) for c in codebook.indicators.composites if c.question == question.id]
    return [f for f in figures if f is not None]


def question_findings(rows: pd.DataFrame, codebook: Codebook, question: Question) -> list[Finding]:
    """The lines of one question: its composites, then its distribution (single choice) or top three
    (multiple choice), or its scores (a scale) or mean and median (a number); one line saying it is not shown
    when too few answered."""
    options = measured_findings(rows, codebook, question) if question.type in ("scale", "numeric") else (
        _options(rows, question))
    if not options:
        base = rows.loc[rows["question_id"] == question.id, "base"]
        answered = int(base.max()) if len(base) and pd.notna(base.max()) else 0
        return [Finding(f"{question.title}: fewer than {codebook.reporting.min_base} answered "
                        f"({answered}), so no figure is shown.", ())] if answered else []
    base = options[0].base
    if question.type in ("scale", "numeric"):
        told = "; ".join(f.told() for f in options)
        return [Finding(f"{question.title}, of the {base} who answered: {told}.", tuple(options))]
    findings = []
    for composite in codebook.indicators.composites:
        figure = _figure(rows, composite.id, composite.label) if composite.question == question.id else None
        if figure is not None:
            findings.append(Finding(f"{question.title}: {figure.told()} of the {base} who answered.", (figure,)))
    if question.answer_kind == "single":
        told = "; ".join(f.told() for f in options)
        findings.append(Finding(f"{question.title}, of the {base} who answered: {told}.", tuple(options)))
    else:
        top = sorted(options, key=lambda f: -f.pct)[:TOP]
        told = "; ".join(f.told() for f in top)
        findings.append(Finding(f"{question.title}, top {len(top)} of the {base} who answered: {told}.", tuple(top)))
    return findings


def brief_content(rows: pd.DataFrame, codebook: Codebook, wave_id: str) -> BriefContent:
    """Everything the brief says about one wave (``rows``: ``brief_figures``), section by section."""
    asked = codebook.for_wave(wave_id)
    asked_ids = {q.id for q in asked.questions}
    sections = []
    for heading, questions in asked.reported_sections():
        questions = [q for q in questions if q.id in asked_ids]
        findings = [f for q in questions for f in question_findings(rows, asked, q)]
        findings = theme_findings(rows, asked, questions) + findings  # a theme first: it sums up its items
        if not findings:
            continue
        chart_title, chart = section_chart_figures(rows, questions)
        sections.append(Section(heading, tuple(findings), chart_title, chart))
    return BriefContent(tuple(sections), changes(rows, sections, codebook, wave_id),
                        coverage(rows, codebook.reporting.coverage_of),
                        f"Figures resting on fewer than {codebook.reporting.min_base} answers are not shown.",
                        how_to_read(codebook))


def theme_findings(rows: pd.DataFrame, codebook: Codebook, questions: list[Question]) -> list[Finding]:
    """A line for each theme whose first item is among ``questions`` (the theme is told where its items are)."""
    ids = {q.id for q in questions}
    findings = []
    for theme in codebook.indicators.themes:
        if theme.items[0] not in ids:
            continue
        asked = [q for q in codebook.questions if q.id in theme.items]  # an item may not be asked in every wave
        out_of = max(_out_of(q) or 0 for q in asked)
        figure = _figure(rows, option_indicator_id(theme.id, SCORE), f"{theme.label} theme score", out_of)
        if figure is not None:
            findings.append(Finding(f"{figure.told()}, of the {figure.base} who answered at least {theme.min_items} "
                                    f"of its {len(theme.items)} items.", (figure,)))
    return findings


def section_chart_figures(rows: pd.DataFrame, questions: list[Question]) -> tuple[str | None, tuple[Figure, ...]]:
    """What a section's chart shows: with two or more scale items, their positive scores in questionnaire
    order; otherwise its first choice question's options (a scale's in scale order, others largest first)."""
    scales = [q for q in questions if q.type == "scale"]
    positives = [_figure(rows, option_indicator_id(q.id, POSITIVE), q.title) for q in scales]
    positives = [f for f in positives if f is not None]
    if len(positives) >= 2:
        return "Positive scores", tuple(positives)
    charted = next((q for q in questions if q.is_choice and _options(rows, q)), None)
    if charted is None:
        return None, ()
    options = _options(rows, charted)
    return charted.title, tuple(options if charted.type == "scale" else sorted(options, key=lambda f: -f.pct))


def changes(rows: pd.DataFrame, sections: list[Section], codebook: Codebook, wave_id: str) -> Changes:
    """How many of the brief's figures were compared with an earlier wave, and how many changed
    significantly: the brief's own figures (a composite and its options are figures of their own, each
    tested), since a count over indicators it does not show would not add up."""
    told = {f.indicator for s in sections for finding in s.findings for f in finding.figures}
    compared = rows.loc[rows.index.isin(told)]
    with_previous = compared["previous_wave_id"].notna()
    comparable = compared["comparable"].astype("boolean").fillna(True).astype(bool)
    previous = tuple(sorted(set(compared.loc[with_previous, "previous_wave_id"]),
                            key=lambda w: codebook.wave_order(w), reverse=True))
    return Changes(previous, int(compared["significant"].notna().sum()),
                   int((compared["significant"] == True).sum()),  # a column holding None too: `is True` would not compare each
                   int((with_previous & ~comparable).sum()), first_wave=codebook.wave_order(wave_id) == 0)


def coverage(rows: pd.DataFrame, coverage_of: str = "trusts in England") -> str:
    """The closing line, as the published report words it ("45% of trusts in England")."""
    def count(indicator: str) -> int | None:
        return int(rows.loc[indicator, "numerator"]) if indicator in rows.index else None

    respondents, trusts = count(RESPONDENTS), count(TRUSTS_RESPONDING)
    line = f"Data drawn from {respondents} respondents" if respondents is not None else "Data"
    if trusts is not None:
        line += f", from {trusts} trusts"
        if COVERAGE_INDICATOR in rows.index and pd.notna(rows.loc[COVERAGE_INDICATOR, "pct"]):
            # As the published report words it; what the wave's population is, the codebook says.
            line += f" ({rows.loc[COVERAGE_INDICATOR, 'pct']:.0f}% of {coverage_of})"
    return line + "."
