"""Reading codebook files: the YAML, the waves declared beside their files merged in, and an error that
names the file and the field for any fault. Each version of a file (and set of declarations) is parsed
once per process, since every step of a run asks for the codebooks.

What does not belong here: the codebook's model and rules (``schemas.codebook``), the wave declarations'
own model (``schemas.waves``), where a home keeps its codebooks (``home.settings``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError

from schemas.codebook import Codebook
from schemas.waves import DeclaredWave, Wave, WaveDeclarationError, merge_waves, validation_problems

BUNDLED_CODEBOOKS_DIR = Path(__file__).parent / "codebooks"


class CodebookError(ValueError):
    """A codebook file that cannot be used, with the file and the offending field in the message."""


# libyaml's parser when PyYAML was built with it: the pure-Python one takes a quarter of a second per codebook.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_codebook(path: Path | str, declared: Sequence[DeclaredWave] = ()) -> Codebook:
    """Read and validate one codebook file, with the waves ``declared`` beside their files merged into
    its own; raise ``CodebookError`` (or ``schemas.waves.WaveDeclarationError``) naming the file and field on any fault.

    Parsed once per process for each version of the file (its modification time and size) and set of
    declarations, since every step of a run asks for the codebooks."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read codebook: {exc.strerror or exc}") from exc
    return _validate_codebook(str(path), stat.st_mtime_ns, stat.st_size, tuple(declared))


@functools.lru_cache(maxsize=64)
def _read_raw(path_text: str, mtime_ns: int, size: int) -> dict:
    path = Path(path_text)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read codebook: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CodebookError(f"{path}: a codebook must be a mapping of fields, got {type(raw).__name__}")
    return raw


@functools.lru_cache(maxsize=64)
def _validate_codebook(path_text: str, mtime_ns: int, size: int, declared: tuple[DeclaredWave, ...]) -> Codebook:
    raw = dict(_read_raw(path_text, mtime_ns, size))
    if declared and isinstance(raw.get("waves", []), list):
        own = []
        for number, wave in enumerate(raw.get("waves", [])):
            try:  # the codebook's own waves first, so that a fault names its place in the file
                own.append(Wave.model_validate(wave))
            except ValidationError as exc:
                raise CodebookError(f"{path_text}: invalid codebook: waves.{number}: {validation_problems(exc)}") from exc
        if len({w.id for w in own}) == len(own):  # else left as listed, for the model to refuse the repeat
            raw["waves"] = [w.model_dump() for w in merge_waves(own, declared, path_text)]
    try:
        codebook = Codebook.model_validate(raw)
    except ValidationError as exc:
        raise CodebookError(f"{path_text}: invalid codebook: {validation_problems(exc)}") from exc
    codebook._source = path_text
    own = raw_waves if isinstance(raw_waves := _read_raw(path_text, mtime_ns, size).get("waves"), list) else []
    codebook._own_waves = frozenset(str(w.get("id")) for w in own if isinstance(w, dict))
    return codebook


def load_codebooks(
    *directories: Path | str, declared: Callable[[str], Sequence[DeclaredWave]] | None = None,
    errors: dict[str, Exception] | None = None,
) -> dict[str, Codebook]:
    """Every codebook (``*.yaml``) in the given folders, by survey id; later folders override earlier
    ones. ``declared`` gives the waves declared beside their files for a survey id.

    Without ``errors`` the first fault raises. With it, a survey whose codebook or wave declarations
    cannot be used is left out and its error kept in ``errors`` by survey id (by file, when the file
    names no survey), so that one person's typo stops only their survey."""

    def attempt(key: str, action):
        try:
            return action()
        except (CodebookError, WaveDeclarationError) as exc:
            if errors is None:
                raise
            errors[key] = exc
            return None

    paths: dict[str, Path] = {}
    for directory in directories:
        directory = Path(directory)
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")):
            stat = path.stat()
            raw = attempt(str(path), lambda: _read_raw(str(path), stat.st_mtime_ns, stat.st_size))
            if raw is None:
                continue
            survey_id = raw.get("survey_id")
            # A file with no survey id is still validated, to say so.
            paths[str(survey_id) if isinstance(survey_id, str) else str(path)] = path
    codebooks: dict[str, Codebook] = {}
    for key, path in paths.items():
        codebook = attempt(key, lambda: load_codebook(path, declared(key) if declared is not None else ()))
        if codebook is not None:
            codebooks[codebook.survey_id] = codebook
    return codebooks
