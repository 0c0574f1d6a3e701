"""Where a survey home keeps its things, and the codebooks and reference data it uses.

``<home>`` is ``$SURVEY_HOME`` or ``./survey_home``. Inside it: ``landing/<survey_id>/<wave_id>/`` for
delivered files; ``working/survey.duckdb``, the pipeline's private working database (free text and
quarantined values included), written by one process at a time under ``working/writer.lock``;
``warehouse/survey.duckdb``, the read-only snapshot published for analysts after each refresh;
``dagster/`` for the Dagster instance (runs, event log, schedules); ``archive/`` for every loaded file;
``publish/`` for leadership packs; ``secrets/`` for the pseudonym key; and, optionally, ``codebooks/`` for
codebooks that add to or replace the bundled ones. A survey's codebook is read with the waves declared
beside their files (``landing/<survey_id>/<wave_id>/wave.yaml``) merged in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from home.landing import wave_declarations
from schemas.codebook import Codebook
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebooks
from schemas.waves import WAVE_SETTINGS, DeclaredWave, WaveSettings

HOME_ENV = "SURVEY_HOME"
MAX_FILE_MB_ENV = "SURVEY_MAX_FILE_MB"
DEFAULT_MAX_FILE_MB = 500
# From this many MB of plain CSV a wave is validated in DuckDB (docs/performance.md); 0 stages every wave.
STAGE_FROM_MB_ENV = "SURVEY_STAGE_FROM_MB"
DEFAULT_STAGE_FROM_MB = 24.0  # schemas.validation.STAGE_FROM_BYTES, without importing pandera here
DEFAULT_HOME = "survey_home"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def max_file_mb() -> int:
    """The size above which a delivered file is refused whole (``SURVEY_MAX_FILE_MB``)."""
    return int(os.environ.get(MAX_FILE_MB_ENV, DEFAULT_MAX_FILE_MB))


def default_home() -> Path:
    return Path(os.environ.get(HOME_ENV, DEFAULT_HOME)).resolve()


@dataclass(frozen=True)
class SurveyHome:
    root: Path

    @property
    def landing_dir(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse_path(self) -> Path:
        """The analysts' snapshot: replaced whole, atomically, after each successful refresh."""
        return self.root / "warehouse" / "survey.duckdb"

    @property
    def working_path(self) -> Path:
        """The pipeline's own database; nobody else should open it."""
        return self.root / "working" / "survey.duckdb"

    @property
    def staging_dir(self) -> Path:
        """Where a large wave's validated rows wait in a database of their own until loaded."""
        return self.root / "working" / "staging"

    @property
    def writer_lock_path(self) -> Path:
        return self.root / "working" / "writer.lock"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def respondent_key_file(self) -> Path:
        return self.root / "secrets" / "respondent.key"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    @property
    def codebooks_dir(self) -> Path:
        return self.root / "codebooks"

    def wave_dir(self, survey_id: str, wave_id: str) -> Path:
        return self.landing_dir / survey_id / wave_id

    def declarations(self, survey_id: str) -> tuple[DeclaredWave, ...]:
        """The wave.yaml files of a survey's waves (``home.landing.wave_declarations``)."""
        return wave_declarations(self.landing_dir, self.archive_dir, survey_id)

    @cached_property
    def _codebooks(self) -> tuple[dict[str, Codebook], dict[str, Exception]]:
        errors: dict[str, Exception] = {}
        return load_codebooks(BUNDLED_CODEBOOKS_DIR, self.codebooks_dir, declared=self.declarations, errors=errors), errors

    @property
    def codebooks(self) -> dict[str, Codebook]:
        """Every usable survey codebook (the home's own replacing a bundled one of the same survey id),
        with the waves declared in the landing folder. A survey whose codebook or wave.yaml files are at
        fault is left out, its error in ``codebook_errors``: the other surveys go on."""
        return self._codebooks[0]

    @property
    def codebook_errors(self) -> dict[str, Exception]:
        """Why each survey left out of ``codebooks`` was (by survey id, or by file when it names none)."""
        return self._codebooks[1]

    def codebook_declaring(self, survey_id: str, wave_id: str, settings: WaveSettings) -> Codebook:
        """The survey's codebook as it would be with ``settings`` as the wave's wave.yaml, to check a
        declaration before anything is written."""
        path = str(self.wave_dir(survey_id, wave_id) / WAVE_SETTINGS)
        others = tuple(d for d in self.declarations(survey_id) if d.wave_id != wave_id)
        proposed = (*others, DeclaredWave(wave_id, settings, path))
        errors: dict[str, Exception] = {}
        codebooks = load_codebooks(BUNDLED_CODEBOOKS_DIR, self.codebooks_dir, errors=errors,
                                   declared=lambda s: proposed if s == survey_id else self.declarations(s))
        if survey_id in errors:
            raise errors[survey_id]
        if survey_id not in codebooks:
            return self.codebook(survey_id)  # raises, naming the surveys known
        return codebooks[survey_id]

    def codebook(self, survey_id: str) -> Codebook:
        """The survey's codebook; raises its fault (``CodebookError``, ``WaveDeclarationError``), or
        ``KeyError`` naming the surveys known when there is none."""
        if survey_id in self.codebook_errors:
            raise self.codebook_errors[survey_id]
        try:
            return self.codebooks[survey_id]
        except KeyError:
            known = ", ".join(sorted(self.codebooks)) or "none"
            unreadable = "".join(f"; unreadable: {error}" for key, error in self.codebook_errors.items()
                                 if key not in self.codebooks)
            raise KeyError(
                f"no codebook for survey {survey_id!r} (known: {known}{unreadable}); add one to {self.codebooks_dir}"
            ) from None
