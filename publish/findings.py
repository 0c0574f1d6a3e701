"""What the leadership brief says: its findings as sentences and figures, section by section, from the
indicators of one wave.

Findings are told as the survey's published report tells them (NHS Providers, October 2023): grouped
under the codebook's report sections; a single-choice question's distribution in one sentence, a
composite such as "fully or mostly aligned" on its own line, a multiple-choice question's top three.
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
from schemas.indicator_catalogue import COVERAGE_INDICATOR, RESPONDENTS, TRUSTS_RESPONDING, option_indicator_id
from schemas.questions import Question
from schemas.reporting import Reporting
from warehouse.connection import read_sql

TOP = 3  # a multiple-choice question is told by its most chosen options, as the published report does


@dataclass(frozen=True)
class Figure:
    """One percentage as the brief shows it: a short label, the share, its interval and base, and its
    change since the previous wave when that change is significant."""

    indicator: str  # its id, for counting changes: never shown
    label: str
    pct: float
    ci_low: float
    ci_high: float
    base: int
    change: float | None = None  # points; only when significant
    previous_wave: str | None = None

    def told(self) -> str:
        """'Operational pressures 80%', with a significant change after it."""
        text = f"{self.label} {self.pct:.0f}%"
        if self.change is not None:
            direction = "up" if self.change > 0 else "down"
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


def how_to_read(reporting: Reporting) -> str:
    """What the brief's intervals and "significant" mean, in plain words, at the codebook's levels."""
    return (
        "How to read this: each percentage is of those who answered the question, the base shown beside it. "
        f"The whiskers on the bars show the {reporting.confidence_level:.0%} interval: with this many answers, "
        "the figure for everyone the survey asked very likely lies in that range. A change is called significant "
        f"only when it is too large to be put down to chance ({reporting.significance_level:.0%} level); smaller "
        "differences are not reported as rises or falls.")


def brief_figures(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> pd.DataFrame:
    return con.execute(read_sql("brief_figures"), {"survey_id": survey_id, "wave_id": wave_id}).df().set_index(
        "indicator_id")


def _figure(rows: pd.DataFrame, indicator_id: str, label: str) -> Figure | None:
    if indicator_id not in rows.index:
        return None
    row = rows.loc[indicator_id]
    if row["suppressed"] or pd.isna(row["pct"]):
        return None
    significant = bool(row["significant"]) if pd.notna(row["significant"]) else False
    return Figure(indicator_id, label, float(row["pct"]), float(row["ci_low"]), float(row["ci_high"]), int(row["base"]),
                  float(row["change"]) if significant else None, row["previous_wave_id"] if significant else None)


def _options(rows: pd.DataFrame, question: Question) -> list[Figure]:
    figures = [_figure(rows, option_indicator_id(question.id, o.id), o.shown_as) for o in question.options]
    return [f for f in figures if f is not None]


def question_findings(rows: pd.DataFrame, codebook: Codebook, question: Question) -> list[Finding]:
    """The lines of one question: its composites, then its distribution (single choice) or top three
    (multiple choice); one line saying it is not shown when too few answered."""
    options = _options(rows, question)
    if not options:
        base = rows.loc[rows["question_id"] == question.id, "base"]
        answered = int(base.max()) if len(base) and pd.notna(base.max()) else 0
        return [Finding(f"{question.title}: fewer than {codebook.reporting.min_base} answered "
                        f"({answered}), so no figure is shown.", ())] if answered else []
    base = options[0].base
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
        if not findings:
            continue
        charted = next((q for q in questions if _options(rows, q)), None)
        chart = tuple(sorted(_options(rows, charted), key=lambda f: -f.pct)) if charted else ()
        sections.append(Section(heading, tuple(findings), charted.title if charted else None, chart))
    return BriefContent(tuple(sections), changes(rows, sections, codebook, wave_id), coverage(rows),
                        f"Figures resting on fewer than {codebook.reporting.min_base} answers are not shown.",
                        how_to_read(codebook.reporting))


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


def coverage(rows: pd.DataFrame) -> str:
    """The closing line, as the published report words it."""
    def count(indicator: str) -> int | None:
        return int(rows.loc[indicator, "numerator"]) if indicator in rows.index else None

    respondents, trusts = count(RESPONDENTS), count(TRUSTS_RESPONDING)
    line = f"Data drawn from {respondents} respondents" if respondents is not None else "Data"
    if trusts is not None:
        line += f", from {trusts} trusts"
        if COVERAGE_INDICATOR in rows.index and pd.notna(rows.loc[COVERAGE_INDICATOR, "pct"]):
            # As the published report words it: the wave's population is the trusts in England in scope.
            line += f" ({rows.loc[COVERAGE_INDICATOR, 'pct']:.0f}% of trusts in England)"
    return line + "."
