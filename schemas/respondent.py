"""Who answered, as a codebook declares it: the respondent's id and submission time, their trust (optional),
their fields (single-choice questions about themselves, such as a board role or an occupational group) and
the columns that identify a person.

What does not belong here: the survey's questions (``schemas.questions``) and the codebook around them
(``schemas.codebook``).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from schemas.questions import Option, fold, refuse_duplicates
from schemas.reporting import IDENTIFIER, REFERENCE_DIMENSIONS
from schemas.strict import Strict as _Strict


class TrustField(_Strict):
    column: str = Field(pattern=IDENTIFIER)
    wording: str
    aliases: tuple[str, ...] = ()
    tool_ids: dict[str, str] = Field(default_factory=dict)

    @property
    def headings(self) -> tuple[str, ...]:
        return (self.wording, *self.aliases)


class RespondentField(TrustField):
    """A single-choice question about the respondent (a board role, an occupational group): stored with the
    respondent, a breakdown dimension when ``reporting.breakdowns`` names it, never an indicator."""

    title: str = Field(min_length=1)  # what tables and the pack call it ("Occupational group")
    options: tuple[Option, ...] = Field(min_length=2)
    required: bool = True

    @model_validator(mode="after")
    def _options_distinct(self) -> RespondentField:
        refuse_duplicates([o.id for o in self.options], f"option ids of {self.column!r}")
        refuse_duplicates([fold(label) for o in self.options for label in o.labels], f"option labels of {self.column!r}")
        if self.column in REFERENCE_DIMENSIONS:  # a breakdown by that name is the trust's, from the reference list
            raise ValueError(f"respondent field {self.column!r} is named like a breakdown of the trust reference list "
                             f"({', '.join(REFERENCE_DIMENSIONS)}): give it another column name")
        return self


class Respondent(_Strict):
    id_column: str = Field(pattern=IDENTIFIER)
    submitted_at_column: str = Field(pattern=IDENTIFIER)
    # Optional: a survey asked of no particular organisation has no trust breakdowns, coverage or trust weighting.
    trust: TrustField | None = None
    fields: tuple[RespondentField, ...] = ()
    # Columns that identify a person (canonical names: `name`, `email`, `ip_address`, ...): read for
    # matching duplicates, never stored. Exports may lack them.
    personal_data: tuple[str, ...] = ()
    # Emails that identify nobody, added to the defaults (schemas.emails.PLACEHOLDER_EMAILS): a whole value
    # ("n/a") or a local part with any domain ("survey@").
    placeholder_emails: tuple[str, ...] = ()
    # Whether partial responses (unfinished, or with no completion time) count; if not, quarantined.
    count_partial: bool = False

    @model_validator(mode="before")
    @classmethod
    def _role_is_a_field(cls, raw):
        """A codebook of the first version names one respondent field, ``role``: it is the first of ``fields``."""
        if isinstance(raw, dict) and "role" in raw:
            raw = dict(raw)
            role = {"title": "Role", **raw.pop("role")}
            raw["fields"] = [role, *raw.get("fields", ())]
        return raw

    @property
    def columns(self) -> list[str]:
        return [self.id_column, self.submitted_at_column, *self.asked_columns]

    @property
    def asked_columns(self) -> list[str]:
        """The columns a respondent answers about themselves: the trust (if asked) and the fields."""
        return [*([self.trust.column] if self.trust is not None else []), *(f.column for f in self.fields)]

    def field(self, column: str) -> RespondentField:
        for field in self.fields:
            if field.column == column:
                return field
        raise KeyError(column)
