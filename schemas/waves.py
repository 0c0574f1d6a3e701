"""Waves: when each wave's fieldwork ran, and the two places a wave may be declared.

A wave is declared in its survey's codebook (``waves:``) or beside its files, in
``<home>/landing/<survey_id>/<wave_id>/wave.yaml``, so that a new wave needs no edit of the codebook.
Both may declare the same wave; where they disagree the wave is refused with both files named. Waves
are ordered by the start of their fieldwork, so trends know which wave came before.

What belongs here: the wave model, the model of a ``wave.yaml`` file, reading one, and merging the
declarations of a survey. What does not: finding ``wave.yaml`` files in a home (``home.landing``),
the questionnaire as asked in a wave (``schemas.codebook``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from schemas.strict import Strict

WAVE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
WAVE_SETTINGS = "wave.yaml"
# Fieldwork dates are days as the calendar in England shows them (also in validation/sql/fieldwork_counts.sql).
FIELDWORK_TIMEZONE = "Europe/London"
# The fields a wave.yaml shares with a codebook's wave: where both give one, they must agree.
DECLARED_FIELDS = ("fieldwork_start", "fieldwork_end", "population_trusts", "synthetic")
# The fields that describe the file delivered, not the wave: a new delivery that gives none drops them.
ACCEPTED_ON_PURPOSE = ("max_quarantined_share", "accept_times_outside_fieldwork", "accept_files_of_other_waves")
OF_THE_FILE = ("layout", *ACCEPTED_ON_PURPOSE)


class WaveDeclarationError(ValueError):
    """A wave.yaml that cannot be used, or two declarations of a wave that disagree; names the files."""


class Wave(Strict):
    id: str = Field(pattern=WAVE_ID)
    fieldwork_start: dt.date
    fieldwork_end: dt.date
    population_trusts: int | None = Field(default=None, gt=0)  # trusts invited; None: coverage not computed
    synthetic: bool = False

    @model_validator(mode="after")
    def _fieldwork_in_order(self) -> Wave:
        if self.fieldwork_end < self.fieldwork_start:
            raise ValueError(f"wave {self.id!r} ends before it starts")
        return self


class WaveSettings(Strict):
    """The contents of a ``wave.yaml``: the wave's declaration (optional when the codebook declares the
    wave) and how its files are laid out (optional: detected when absent)."""

    fieldwork_start: dt.date | None = None
    fieldwork_end: dt.date | None = None
    population_trusts: int | None = Field(default=None, gt=0)
    synthetic: bool | None = None
    layout: str | None = None
    # The share of quarantined rows above which the wave is refused (default 0.5): raised on purpose for a
    # wave known to be mostly refused rows, so that its good rows load.
    max_quarantined_share: float | None = Field(default=None, gt=0, le=1)
    # Load the file even if more than a tenth of its submission times fall outside the fieldwork dates.
    accept_times_outside_fieldwork: bool | None = None
    # Load the files even if one has the bytes of a file loaded in another wave (a survey delivered twice on purpose).
    accept_files_of_other_waves: bool | None = None
    # The wave's population for weighting (``schemas.weighting``): a CSV beside the exports, not one of them.
    population_file: str | None = Field(default=None, pattern=r"^[^/\\.][^/\\]*$")

    @property
    def declared(self) -> dict:
        """The declaration fields this file sets."""
        return {name: getattr(self, name) for name in DECLARED_FIELDS if getattr(self, name) is not None}


@dataclass(frozen=True)
class DeclaredWave:
    """One wave.yaml of a survey: the wave it sits beside, what it says, and where it is."""

    wave_id: str
    settings: WaveSettings
    source: str


def read_wave_settings(path: Path) -> WaveSettings:
    """The wave.yaml at ``path``; raises ``WaveDeclarationError`` naming the file and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WaveDeclarationError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        # PyYAML's own message spans several lines and quotes the text around the problem.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise WaveDeclarationError(
            f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or 'cannot be parsed'}") from None
    if raw is None:
        return WaveSettings()
    if not isinstance(raw, dict):
        raise WaveDeclarationError(f"{path}: a wave.yaml must be a mapping of fields, got {type(raw).__name__}")
    try:
        return WaveSettings.model_validate(raw)
    except ValidationError as exc:
        raise WaveDeclarationError(f"{path}: {validation_problems(exc)}") from exc


def validation_problems(exc: ValidationError) -> str:
    """pydantic's errors on one line: ``field.path: message; ...``."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors())


def merge_waves(codebook_waves: Iterable[Wave], declared: Iterable[DeclaredWave], codebook_source: str) -> tuple[Wave, ...]:
    """The survey's waves from its codebook and its wave.yaml files, in order of fieldwork start.

    A wave.yaml of a wave the codebook also declares may repeat its fields but not contradict them; one
    of a wave the codebook does not declare must give the fieldwork dates. A wave.yaml giving only a
    layout declares nothing.
    """
    waves = {w.id: w for w in codebook_waves}
    for item in declared:
        fields = item.settings.declared
        if not fields:
            continue
        known = waves.get(item.wave_id)
        if known is not None:
            clashes = [f"{name} ({getattr(known, name)} in the codebook, {value} in wave.yaml)"
                       for name, value in fields.items() if getattr(known, name) != value]
            if clashes:
                raise WaveDeclarationError(
                    f"wave {item.wave_id!r} is declared in both {codebook_source} and {item.source}, which "
                    f"disagree on {'; '.join(clashes)}: keep the declaration in one of them")
            continue
        missing = [name for name in ("fieldwork_start", "fieldwork_end") if name not in fields]
        if missing:
            raise WaveDeclarationError(
                f"{item.source}: declares wave {item.wave_id!r} but lacks {' and '.join(missing)} "
                "(dates as YYYY-MM-DD)")
        try:
            waves[item.wave_id] = Wave(id=item.wave_id, **fields)
        except ValidationError as exc:
            raise WaveDeclarationError(f"{item.source}: {validation_problems(exc)}") from exc
    return order_waves(waves.values())


def order_waves(waves: Iterable[Wave]) -> tuple[Wave, ...]:
    return tuple(sorted(waves, key=lambda w: (w.fieldwork_start, w.id)))
