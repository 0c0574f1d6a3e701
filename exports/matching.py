"""Matching an export's headings to the codebook: by wording, by the codebook's aliases, or by the
survey tool's own ids, ignoring case, surrounding and repeated spaces, curly quotes and non-breaking spaces."""

from __future__ import annotations

from exports.base import Target
from schemas.codebook import Codebook
from schemas.questions import Question, fold


class HeadingMatcher:
    def __init__(self, codebook: Codebook, tool: str | None = None):
        self.codebook = codebook
        respondent = codebook.respondent
        self._by_heading: dict[str, Target] = {}
        self._by_tool_id: dict[str, Target] = {}
        fields = [(respondent.trust, respondent.trust.column, "field")] if respondent.trust is not None else []
        fields += [(field, field.column, "single") for field in respondent.fields]
        for spec, column, kind in fields:
            target = Target(kind, column)
            for heading in spec.headings:
                self._by_heading[fold(heading)] = target
            if tool and tool in spec.tool_ids:
                self._by_tool_id[fold(spec.tool_ids[tool])] = target
        for question in codebook.questions:
            kind = question.answer_kind
            target = Target(kind, question.id, question)
            for heading in question.headings:
                self._by_heading[fold(heading)] = target
            if tool and tool in question.tool_ids:
                self._by_tool_id[fold(question.tool_ids[tool])] = target

    def by_heading(self, heading: str | None) -> Target | None:
        return self._by_heading.get(fold(heading)) if heading else None

    def by_tool_id(self, tool_id: str | None) -> Target | None:
        return self._by_tool_id.get(fold(tool_id)) if tool_id else None

    def multiple_choice(self, heading: str | None) -> Question | None:
        target = self.by_heading(heading)
        return target.question if target is not None and target.kind == "multiple" else None

    def split_question_option(self, heading: str | None, separator: str = " - ") -> tuple[Question, str] | None:
        """``"<wording> - <option label>"`` (Qualtrics, SPSS exports) as its question and option label."""
        if not heading or separator not in heading:
            return None
        # Wording may itself contain the separator: try every split, longest wording first.
        parts = heading.split(separator)
        for cut in range(len(parts) - 1, 0, -1):
            question = self.multiple_choice(separator.join(parts[:cut]))
            if question is not None:
                return question, separator.join(parts[cut:])
        return None
