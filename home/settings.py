"""The settings of a survey home, read once from the ``SURVEY_*`` variables, and where the home keeps its things.

**Settings.** ``Settings`` reads every ``SURVEY_*`` environment variable, checked (pydantic-settings):
``SURVEY_HOME`` (the home folder, default ``./survey_home``), ``SURVEY_MAX_FILE_MB`` (a delivered file
larger than this is refused whole, default 500), ``SURVEY_DUCKDB_MEMORY_MB`` (DuckDB's memory for a writing
connection, default 1024), ``SURVEY_SETTLE_SECONDS`` (a landed file changed more recently is not read
yet, default 5: ``home.settling``), ``SURVEY_ENCODING_ERROR_ROWS`` and ``SURVEY_ENCODING_ERROR_SHARE``
(how many rows with bytes that are not UTF-8 a UTF-8 file may have, quarantined, before it is read as
Windows-1252 or refused: the larger of the two, defaults 10 and 0.001: ``exports.text``),
``SURVEY_BRIEF_PDF`` (print the leadership brief to PDF with headless Chromium, default true) and
``SURVEY_RESPONDENT_KEY`` (the pseudonym key; default: a key file in the home), ``SURVEY_DAGSTER_YAML`` (a
deployment's Dagster instance settings) and, together, ``SURVEY_DUCKLAKE_CATALOG``, ``SURVEY_DUCKLAKE_DATA_PATH``
and ``SURVEY_DUCKLAKE_PYTHON`` (each publication also into a DuckLake: ``warehouse.ducklake_publication``), with
``SURVEY_DUCKLAKE_KEEP_DAYS`` (the lake's snapshots older than this expired after each publication, and the files
only they used removed; unset, every snapshot is kept). ``load_settings`` builds it at the entry points only (the ``survey`` command, the Dagster
definitions), and the object is passed down from there (``SurveyHome.settings``, the Dagster resource,
connection opening, the pseudonymiser); nothing deeper reads the environment. A bad value stops the entry
point with one line naming the variable (``SettingsError``). The two ``SURVEY_TEST_STOP_*`` variables
are a test hook of ``warehouse.stop_points``, read there.

**The home.** ``<home>`` is ``--home``, else ``$SURVEY_HOME``, else ``./survey_home``. Inside it:
``landing/<survey_id>/<wave_id>/`` for delivered files; ``working/<survey_id>/survey.duckdb``, each survey's
private working database, with its private values (free text, quarantined and cleaned cells) in
``private.duckdb`` beside it, written by one process at a time under ``writer.lock`` beside it (two surveys
refresh side by side); ``warehouse/surveys/<survey_id>.duckdb``, each survey's read-only snapshot, and
``warehouse/survey.duckdb``, the analysts' warehouse combined from them after each survey's refresh; ``dagster/`` for the Dagster instance (runs, event log, schedules); ``archive/`` for every
loaded file; ``publish/`` for leadership packs; ``secrets/`` for the pseudonym key; and, optionally,
``codebooks/`` for codebooks that add to or replace the bundled ones. A survey's codebook is read with the
waves declared beside their files (``landing/<survey_id>/<wave_id>/wave.yaml``) merged in.

What does not belong here: opening the databases (``warehouse.connection``), or anything Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from exports import ReadLimits
from home.landing import wave_declarations
from schemas.codebook import Codebook
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebooks
from schemas.waves import WAVE_SETTINGS, DeclaredWave, WaveSettings

ENV_PREFIX = "SURVEY_"
HOME_ENV = f"{ENV_PREFIX}HOME"
MAX_FILE_MB_ENV = f"{ENV_PREFIX}MAX_FILE_MB"
RESPONDENT_KEY_ENV = f"{ENV_PREFIX}RESPONDENT_KEY"
DEFAULT_HOME = "survey_home"
DEFAULT_MAX_FILE_MB = 500
# DuckDB's memory for a writing connection; beyond it, DuckDB spills to ``<file>.tmp/``. Without a limit
# it takes up to 80% of the machine's memory (5.3 GB counting a wave of a million respondents by trust);
# with 1 GB that step used 1.2 GB in all and took 1.6 times as long (docs/performance.md).
DEFAULT_DUCKDB_MEMORY_MB = 1024
MIN_RESPONDENT_KEY_BYTES = 16
DUCKLAKE_CATALOG_ENV = f"{ENV_PREFIX}DUCKLAKE_CATALOG"
DUCKLAKE_ENVS = f"{DUCKLAKE_CATALOG_ENV}, {ENV_PREFIX}DUCKLAKE_DATA_PATH and {ENV_PREFIX}DUCKLAKE_PYTHON"
DEFAULT_SETTLE_SECONDS = 5.0
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class SettingsError(ValueError):
    """A ``SURVEY_*`` variable with a value that cannot be used: the message names it, on one line."""


class Settings(BaseSettings):
    """Every ``SURVEY_*`` setting; an unset or empty variable takes the default."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True)

    home: Path = Path(DEFAULT_HOME)
    max_file_mb: PositiveInt = DEFAULT_MAX_FILE_MB
    duckdb_memory_mb: PositiveInt = DEFAULT_DUCKDB_MEMORY_MB
    respondent_key: SecretStr | None = None
    # A landed file changed more recently than this is still being copied, perhaps: not read yet.
    settle_seconds: NonNegativeFloat = DEFAULT_SETTLE_SECONDS
    encoding_error_rows: NonNegativeInt = ReadLimits.encoding_error_rows
    encoding_error_share: float = Field(default=ReadLimits.encoding_error_share, ge=0, le=1)
    # The pack's brief printed to PDF (a few seconds of headless Chromium per pack); off, the manifest says so.
    brief_pdf: bool = True
    # The Dagster instance settings to use (a deployment's, e.g. deploy/dagster-postgres.yaml); unset, the
    # project's dagster.yaml.
    dagster_yaml: Path | None = None
    # DuckLake, a prototype (docs/deployment.md): each survey's snapshot also published into a DuckLake, its
    # catalog in PostgreSQL (``postgres:dbname=... host=... user=...``, a password included if any: a secret), its
    # Parquet in ducklake_data_path, by the Python of the DuckLake side environment (`make ducklake`). All or none.
    ducklake_catalog: SecretStr | None = None
    ducklake_data_path: Path | None = None
    ducklake_python: Path | None = None
    # Time travel kept in the DuckLake: after each publication, snapshots older than this many days are expired and
    # the Parquet files only they used removed. Unset, every snapshot (and every replaced file) is kept.
    ducklake_keep_days: NonNegativeFloat | None = None

    @field_validator("respondent_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value().encode()) < MIN_RESPONDENT_KEY_BYTES:
            raise ValueError(f"a respondent key needs at least {MIN_RESPONDENT_KEY_BYTES} bytes")
        return key

    @model_validator(mode="after")
    def _ducklake_whole(self) -> Settings:
        given = [self.ducklake_catalog is not None, self.ducklake_data_path is not None, self.ducklake_python is not None]
        if any(given) and not all(given):
            raise ValueError(f"{DUCKLAKE_ENVS} are set together or not at all")
        return self

    @property
    def ducklake(self) -> bool:
        """Whether each publication goes into the DuckLake too."""
        return self.ducklake_catalog is not None

    @classmethod
    def defaults(cls) -> Settings:
        """Every setting at its default, without looking at the environment."""
        return cls.model_construct()

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def read_limits(self) -> ReadLimits:
        return ReadLimits(max_bytes=self.max_file_bytes, encoding_error_rows=self.encoding_error_rows,
                          encoding_error_share=self.encoding_error_share)

    @property
    def respondent_key_text(self) -> str | None:
        return self.respondent_key.get_secret_value() if self.respondent_key is not None else None


def load_settings() -> Settings:
    """The settings from the process's environment; ``SettingsError`` names each variable whose value
    cannot be used (never echoing the respondent key)."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            message = error["msg"].removeprefix("Value error, ")
            if not name:  # a rule across several variables, which the message names
                problems.append(message)
                continue
            variable = f"{ENV_PREFIX}{name.upper()}"
            shown = "" if name in ("respondent_key", "ducklake_catalog") else f" (got {error.get('input')!r})"
            problems.append(f"{variable}: {message}{shown}")
        raise SettingsError("; ".join(problems)) from None


@dataclass(frozen=True)
class SurveyHome:
    """A survey home's folder, and the settings it runs with."""

    root: Path
    settings: Settings = field(default_factory=Settings.defaults, compare=False)

    @property
    def landing_dir(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse_path(self) -> Path:
        """The analysts' warehouse, every survey in one file: replaced whole, atomically, after each survey's
        publication (``warehouse.combined_publication``)."""
        return self.root / "warehouse" / "survey.duckdb"

    @property
    def snapshots_dir(self) -> Path:
        """Each survey's own published snapshot, the parts the analysts' warehouse is combined from."""
        return self.root / "warehouse" / "surveys"

    def snapshot_path(self, survey_id: str) -> Path:
        """One survey's published snapshot: replaced whole, atomically, after each refresh of the survey."""
        return self.snapshots_dir / f"{survey_id}.duckdb"

    @property
    def working_dir(self) -> Path:
        """The pipeline's own files: a folder per survey, staging, crash logs. Nobody else should open them."""
        return self.root / "working"

    def working_path(self, survey_id: str) -> Path:
        """A survey's own working database: surveys are written side by side, each by one process at a time."""
        return self.working_dir / survey_id / "survey.duckdb"

    def writer_lock_path(self, survey_id: str) -> Path:
        """The lock held by the one process writing the survey's working database."""
        return self.working_dir / survey_id / "writer.lock"

    @property
    def shared_working_path(self) -> Path:
        """The one working database of every survey that earlier releases kept; split per survey on first use."""
        return self.working_dir / "survey.duckdb"

    @property
    def shared_writer_lock_path(self) -> Path:
        """The lock of ``shared_working_path``, held while it is split."""
        return self.working_dir / "writer.lock"

    @property
    def publication_lock_path(self) -> Path:
        """Held while the analysts' warehouse is combined from the surveys' snapshots (seconds, not a refresh)."""
        return self.working_dir / "publication.lock"

    def surveys_with_working_database(self) -> list[str]:
        """The surveys that have a working database of their own, by id."""
        return sorted(p.parent.name for p in self.working_dir.glob("*/survey.duckdb") if p.is_file())

    @property
    def staging_dir(self) -> Path:
        """Where a wave's validated rows wait in a database of their own until loaded."""
        return self.working_dir / "staging"

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
