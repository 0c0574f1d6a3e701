"""The survey codebook: its model, its rules and how to load it.

A codebook (one YAML file per survey under ``schemas/codebooks/``) is the single source of truth for a
survey: question ids, types, wording, option ids and labels, personal-data columns, waves and the
indicator catalogue. This module turns the YAML into validated, immutable objects and refuses a
codebook that contradicts itself. A survey's waves may also be declared beside their files (``wave.yaml``,
``schemas.waves``): those declarations are merged in when the codebook is loaded, so that questions may
name them (``asked_in``, ``asked_from``, ``rewordings``).

What does not belong here: the questions and options themselves, with their own rules
(``schemas.questions``), who answered (``schemas.respondent``: trust, respondent fields, personal data), reading codebook files (``schemas.codebook_files``), how a survey is reported
(``schemas.reporting``: suppression, levels, pooled groups, report sections, composites and headline),
the indicator catalogue derived from a codebook (``schemas.indicator_catalogue``), the pandera schema built from it
(``schemas.response_schema``), and anything that touches data or the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field, PrivateAttr, field_validator, model_validator

from schemas.indicator_catalogue import indicator_catalogue
from schemas.questions import Option, Question, fold, refuse_duplicates
from schemas.reporting import REFERENCE_DIMENSIONS, IndicatorCatalogue, Reporting, ReportSection
from schemas.respondent import Respondent
from schemas.scales import Scale, expand_questionnaire
from schemas.strict import Strict as _Strict
from schemas.waves import WAVE_SETTINGS, Wave, order_waves
from schemas.weighting import TRUST_CELL, Weighting

SURVEY_ID = r"^[a-z][a-z0-9-]*$"


class WaveNotDeclared(KeyError):
    """A wave neither the codebook nor a wave.yaml declares; the message says both ways to declare it."""

    def __init__(self, survey_id: str, wave_id: str, known: Sequence[str]):
        self.survey_id, self.wave_id = survey_id, wave_id
        super().__init__(
            f"wave {wave_id!r} is not declared for survey {survey_id} (declared: {', '.join(known) or 'none'}). "
            f"Declare it either beside its files, in landing/{survey_id}/{wave_id}/{WAVE_SETTINGS} with "
            "fieldwork_start and fieldwork_end (`survey ingest FILE --survey "
            f"{survey_id} --wave {wave_id} --fieldwork-start YYYY-MM-DD --fieldwork-end YYYY-MM-DD` writes it), "
            "or in the `waves:` list of the survey's codebook"
        )

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class Codebook(_Strict):
    survey_id: str = Field(pattern=SURVEY_ID)
    title: str
    publisher: str
    version: str
    reporting: Reporting = Reporting()
    # Optional: waves may be declared beside their files instead (wave.yaml). Kept in fieldwork order.
    waves: tuple[Wave, ...] = ()
    respondent: Respondent
    questions: tuple[Question, ...] = Field(min_length=1)
    indicators: IndicatorCatalogue = IndicatorCatalogue()
    # The leadership pack's headings, in order; with them, every single- or multiple-choice question
    # names one (``Question.report_section``), so that none is left out of the brief unnoticed.
    report_sections: tuple[ReportSection, ...] = ()
    # Answer scales named once and used by scale questions and grids (``schemas.scales``), kept for the
    # record: each question already holds its scale's options.
    scales: dict[str, Scale] = Field(default_factory=dict)
    # How the survey is weighted (``schemas.weighting``); None: unweighted.
    weighting: Weighting | None = None

    # Where the codebook was read from, for messages; and, for the questionnaire of one wave
    # (``for_wave``), that wave and what the full codebook has that was not asked in it.
    _source: str = PrivateAttr(default="the codebook")
    _own_waves: frozenset[str] | None = PrivateAttr(default=None)  # listed in the file itself; None: all
    _asked_wave: str | None = PrivateAttr(default=None)
    _not_asked: tuple[NotAsked, ...] = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _write_out_scales_and_grids(cls, raw):
        return expand_questionnaire(raw)

    @model_validator(mode="before")
    @classmethod
    def _no_trust_no_trust_breakdowns(cls, raw):
        """Without a trust field, the breakdowns by default are none (trust type and region are a trust's)."""
        if isinstance(raw, dict) and isinstance(raw.get("respondent"), dict) and raw["respondent"].get("trust") is None:
            reporting = dict(raw.get("reporting") or {})
            reporting.setdefault("breakdowns", [])
            raw = {**raw, "reporting": reporting}
        return raw

    @field_validator("waves")
    @classmethod
    def _in_fieldwork_order(cls, waves: tuple[Wave, ...]) -> tuple[Wave, ...]:
        return order_waves(waves)

    @model_validator(mode="after")
    def _consistent(self) -> Codebook:
        refuse_duplicates([w.id for w in self.waves], "wave ids")
        waves = [w.id for w in self.waves]
        for question in self.questions:
            named = question.named_waves + [r.wave for r in question.rewordings]
            named += [w for o in question.options for w in o.named_waves]
            unknown = sorted(set(named) - set(waves))
            if unknown:
                raise ValueError(
                    f"question {question.id!r} names waves that are not declared: {unknown}; declare each in "
                    f"the codebook's `waves:` or in landing/{self.survey_id}/<wave>/{WAVE_SETTINGS} beside its files")
        for field in self.respondent.fields:
            unknown = sorted({w for o in field.options for w in o.named_waves} - set(waves))
            if unknown:
                raise ValueError(f"respondent field {field.column!r} names waves that are not declared: {unknown}")
        refuse_duplicates([q.id for q in self.questions], "question ids")
        ids = {q.id for q in self.questions}
        for question in self.questions:
            if question.renamed_from in ids:
                raise ValueError(f"question {question.id!r} is renamed_from {question.renamed_from!r}, which is "
                                 "still a question of the codebook: a rename leaves the old id behind")
        refuse_duplicates([q.renamed_from for q in self.questions if q.renamed_from], "renamed_from ids")
        refuse_duplicates(self.expected_columns, "column names (respondent fields, personal data and questions)")
        questions = {q.id: q for q in self.questions}
        for composite in self.indicators.composites:
            self._check_composite(composite, questions.get(composite.question))
        for theme in self.indicators.themes:
            not_scales = [i for i in theme.items if i not in questions or questions[i].type != "scale"]
            if not_scales:
                raise ValueError(f"theme {theme.id!r} names {not_scales}, which are not scale questions of the codebook")
            if theme.min_items > len(theme.items):
                raise ValueError(f"theme {theme.id!r} asks for at least {theme.min_items} of its {len(theme.items)} items")
        catalogue = [i.id for i in indicator_catalogue(self)]
        clash = sorted(i for i, n in Counter(catalogue).items() if n > 1)
        if clash:
            raise ValueError(f"indicator ids {clash} are made twice (a composite, theme or option of the same name)")
        known = set(catalogue)
        unknown_headline = [i for i in self.indicators.headline if i not in known]
        if unknown_headline:
            raise ValueError(f"headline lists unknown indicators {unknown_headline}")
        refuse_duplicates(list(self.indicators.headline), "headline indicators")
        self._check_report_sections()
        self._check_routes()
        self._check_breakdowns()
        self._check_weighting()
        return self

    def _check_weighting(self) -> None:
        """Cells are the trust or respondent fields; raking to the reference list's margins needs a trust."""
        if self.weighting is None:
            return
        trust = self.respondent.trust
        known = [*([TRUST_CELL] if trust is not None else []), *(f.column for f in self.respondent.fields)]
        unknown = [c for c in self.weighting.cells if c not in known]
        if unknown:
            raise ValueError(f"weighting cells {unknown} are neither the trust ({TRUST_CELL}) nor respondent fields "
                             f"(known: {', '.join(known) or 'none'})")
        if self.weighting.method == "rake" and trust is None:
            raise ValueError("rake weighting is to the trust reference list's margins: the survey asks no trust")

    def _check_breakdowns(self) -> None:
        """Breakdowns and pooled groups name the reference list's dimensions or respondent fields."""
        known = [*(REFERENCE_DIMENSIONS if self.respondent.trust is not None else ()), *(f.column for f in self.respondent.fields)]
        refuse_duplicates(list(self.reporting.breakdowns), "breakdowns")
        unknown = [d for d in [*self.reporting.breakdowns, *self.reporting.pooled_groups] if d not in known]
        if unknown:
            raise ValueError(f"reporting names breakdown dimensions {sorted(set(unknown))}, which are neither "
                             f"{' nor '.join(REFERENCE_DIMENSIONS)} (of a survey with a trust field) nor respondent "
                             f"fields (known: {', '.join(known) or 'none'})")
        for field in self.respondent.fields:  # a field's groups are its options' labels (the reference list's are
            labels = {o.label for o in field.options}  # not in the codebook: its pooled names are not checked)
            strange = sorted(set(self.reporting.pooled_groups.get(field.column, {})) - labels)
            if strange:
                raise ValueError(f"reporting.pooled_groups.{field.column} names {strange}, which are not labels of "
                                 f"its options ({', '.join(sorted(labels))})")

    @staticmethod
    def _check_composite(composite, question: Question | None) -> None:
        """A composite of options names a choice question and options of it in the base; a composite of a
        range names a numeric question."""
        if composite.between is not None:
            if question is None or question.type != "numeric":
                raise ValueError(f"composite {composite.id!r} gives a range of {composite.question!r}, which is not "
                                 "a numeric question")
        elif question is None or not question.is_choice:
            raise ValueError(
                f"composite {composite.id!r} refers to {composite.question!r}, "
                "which is not a single- or multiple-choice question"
            )
        if not composite.id.startswith(f"{composite.question}."):
            raise ValueError(f"composite id {composite.id!r} must start with '{composite.question}.'")
        unknown = sorted(set(composite.options) - {o.id for o in question.options})
        if unknown:
            raise ValueError(f"composite {composite.id!r} names unknown options {unknown}")
        excluded = sorted(set(composite.options) - {o.id for o in question.base_options})
        if excluded:
            raise ValueError(f"composite {composite.id!r} names options {excluded}, which are excluded from the base")

    def _check_routes(self) -> None:
        """A route names an earlier choice question of the codebook, and options of it."""
        earlier: dict[str, Question] = {}
        for question in self.questions:
            route = question.asked_if
            if route is not None:
                condition = earlier.get(route.question)
                if condition is None or not condition.is_choice:
                    raise ValueError(f"question {question.id!r} is asked_if {route.question!r}, which is not an "
                                     "earlier single-choice, scale or multiple-choice question of the codebook")
                unknown = sorted(set(route.options) - {o.id for o in condition.options})
                if unknown:
                    raise ValueError(f"question {question.id!r} is asked_if {route.question!r} in {unknown}, "
                                     f"which are not options of {route.question!r}")
            earlier[question.id] = question

    def _check_report_sections(self) -> None:
        sections = [s.id for s in self.report_sections]
        refuse_duplicates(sections, "report section ids")
        for question in self.questions:
            if question.report_section is not None and question.report_section not in sections:
                raise ValueError(f"question {question.id!r} names report_section {question.report_section!r}, "
                                 f"which `report_sections` does not declare (declared: {', '.join(sections) or 'none'})")
        if sections:
            missing = [q.id for q in self.choice_questions if q.report_section is None]
            if missing:
                raise ValueError(f"questions {missing} name no report_section: with report_sections declared, "
                                 "every single- or multiple-choice question names the heading it is reported under")
            empty = [s for s in sections if not any(q.report_section == s for q in self.questions)]
            if empty:
                raise ValueError(f"report sections {empty} have no question")

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
        raise WaveNotDeclared(self.survey_id, wave_id, [w.id for w in self.waves])

    def declares_itself(self, wave_id: str) -> bool:
        """Whether the codebook file lists the wave (rather than a wave.yaml beside its files)."""
        return wave_id in (self._own_waves if self._own_waves is not None else {w.id for w in self.waves})

    def wave_order(self, wave_id: str) -> int:
        """The wave's position in time (by fieldwork start), 0 for the first."""
        return [w.id for w in self.waves].index(self.wave(wave_id).id)

    def is_asked(self, item: Question | Option, wave_id: str) -> bool:
        """Whether a question or option was asked in a wave, by its ``asked_in`` or ``asked_from``."""
        if item.asked_in is not None:
            return wave_id in item.asked_in
        if item.asked_from is not None:
            return self.wave_order(wave_id) >= self.wave_order(item.asked_from)
        return True

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
        questions, not_asked = [], []
        for question in self.questions:
            if not self.is_asked(question, wave_id):
                not_asked.append(NotAsked(question, None))
                continue
            options = tuple(o for o in question.options if self.is_asked(o, wave_id))
            not_asked += [NotAsked(question, o) for o in question.options if o not in options]
            wording = self.wording_in(question, wave_id)
            others = tuple(h for h in question.own_headings if h != wording)
            questions.append(question.model_copy(update={"options": options, "wording": wording,
                                                         "aliases": others, "rewordings": ()}))
        # A route on a question the wave did not ask routes nobody away: everyone was asked.
        ids = {q.id for q in questions}
        questions = [q.model_copy(update={"asked_if": None}) if q.asked_if and q.asked_if.question not in ids else q
                     for q in questions]
        # A respondent field's options may be offered from a wave on too.
        fields = tuple(f.model_copy(update={"options": tuple(o for o in f.options if self.is_asked(o, wave_id))})
                       for f in self.respondent.fields)
        asked = self.model_copy(update={"questions": tuple(questions),
                                        "respondent": self.respondent.model_copy(update={"fields": fields})})
        asked._asked_wave, asked._not_asked = wave_id, tuple(not_asked)
        return asked

    def not_asked_heading(self, heading: str) -> str | None:
        """For the questionnaire of one wave: why an export's heading matches nothing, when it is a
        question or option of the codebook that was not asked in this wave (None otherwise)."""
        folded = fold(heading)
        for item in self._not_asked:
            if folded in {fold(name) for name in item.names}:
                return item.explanation(self._asked_wave)
        return None

    def not_asked_option(self, question_id: str, label: str) -> str | None:
        """For the questionnaire of one wave: why an option label of a question matches none of its
        options, when it is an option not asked in this wave (None otherwise)."""
        for item in self._not_asked:
            if item.option is not None and item.question.id == question_id and fold(label) in {
                    fold(known) for known in item.option.labels}:
                return item.explanation(self._asked_wave)
        return None

    def digest_for(self, wave_id: str) -> str:
        """A digest of everything in the codebook that decides a wave's result: its questionnaire as
        asked in that wave, its reporting rules, its catalogue and that wave's declaration (not the
        survey's title or publisher, which only label the publication). A wave the codebook does not
        declare depends on all of it (declaring it is a change)."""
        labels_only = {"title", "publisher"}
        # Fields left at their defaults are not part of it: a release that adds an optional codebook field
        # (a default that changes nothing) must not make every loaded wave stale.
        try:
            asked = self.for_wave(wave_id)
        except WaveNotDeclared:
            content = self.model_dump(mode="json", exclude=labels_only, exclude_defaults=True)
        else:
            content = {**asked.model_dump(mode="json", exclude=labels_only, exclude_defaults=True),
                       "waves": [asked.wave(wave_id).model_dump(mode="json", exclude_defaults=True)]}
        fields = content["respondent"].pop("fields", [])
        for field in fields:
            field.pop("title")  # a label, like the survey's title
        if len(fields) == 1:
            # As the first codebook version wrote its one respondent field, so that waves loaded before fields
            # were a list are not loaded again for a change of notation alone.
            content["respondent"]["role"] = fields[0]
        elif fields:
            content["respondent"]["fields"] = fields
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

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
        """The questions answered with options: single choice, scale and multiple choice."""
        return [q for q in self.questions if q.is_choice]

    def reported_sections(self) -> list[tuple[str, list[Question]]]:
        """The pack's headings in order, each with its questions in codebook order: the single-choice, scale and
        multiple-choice questions, and the numeric questions that name a section; a codebook without
        ``report_sections`` reports every choice and numeric question under "Findings"."""
        if not self.report_sections:
            reported = [q for q in self.questions if q.is_choice or q.type == "numeric"]
            return [("Findings", reported)] if reported else []
        # Free text is never reported: it may name people.
        return [(s.heading, [q for q in self.questions if q.report_section == s.id and q.type != "text"])
                for s in self.report_sections]

    def dimension_name(self, dimension: str) -> str:
        """What people call a breakdown dimension in a sentence ("trust type", "occupational group")."""
        if dimension in REFERENCE_DIMENSIONS:
            return dimension.replace("_", " ")
        title = self.respondent.field(dimension).title
        return title[:1].lower() + title[1:] if not title[:2].isupper() else title  # "NHS band" stays

    @property
    def expected_columns(self) -> list[str]:
        """Every column of the plain CSV layout, in codebook order."""
        columns = self.respondent.columns + list(self.respondent.personal_data)
        for question in self.questions:
            columns += question.columns
        return columns


@dataclass(frozen=True)
class NotAsked:
    """A question, or one option of a question, that the full codebook has but a wave did not ask."""

    question: Question
    option: Option | None

    @property
    def names(self) -> list[str]:
        """Every heading an export may give it: the plain layout's column and the tools' headings."""
        if self.option is None:
            return [self.question.id, *self.question.headings, *self.question.tool_ids.values()]
        return [self.question.option_column(self.option.id)] + [
            f"{heading}{separator}{label}"
            for heading in self.question.headings for label in self.option.labels for separator in (" - ", " / ")]

    def explanation(self, wave_id: str | None) -> str:
        if self.option is None:
            return (f"it is question {self.question.id}, which the codebook asks {self.question.asked_when}, "
                    f"not in wave {wave_id}: if this wave asked it, add the wave to the question's asked_in or asked_from")
        return (f"it is option {self.option.label!r} of {self.question.id}, which the codebook offers "
                f"{self.option.asked_when}, not in wave {wave_id}: if this wave offered it, add the wave to "
                "the option's asked_in or asked_from")
