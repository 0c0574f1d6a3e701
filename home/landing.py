"""The landing folder: which waves have arrived, their files and declarations, and what decides their result.

A wave is the set of export files (``.csv``, ``.xlsx``, ``.xlsm``, ``.sav``) in ``<home>/landing/<survey_id>/<wave_id>/``,
with an optional ``wave.yaml`` beside them declaring the wave (fieldwork dates, population) and naming
their layout (``schemas.waves``). A wave's **inputs fingerprint** hashes everything that decides its
result: the files' names and sha256 digests, the bytes of its wave.yaml, and the digest of the codebook
as it applies to the wave. A re-delivered identical file changes nothing; a corrected file, a changed
wave.yaml or a codebook fix changes it. File digests are cached by (size, modification time) so that a
sensor ticking every few seconds does not re-read large files, and computed only when first asked for.

When a wave is loaded its wave.yaml is kept in the archive too, so that a loaded wave stays declared
while its landing folder is out of reach (an unmounted volume); the landing folder's own file wins
whenever the folder is there.

What does not belong here: reading a file's rows (``exports``) or anything Dagster (the landing sensor is
``pipelines.sensors``).
"""

from __future__ import annotations

import functools
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from exports import FILE_SUFFIXES, sha256_of
from schemas.reference import reference_digest
from schemas.waves import WAVE_SETTINGS, DeclaredWave, WaveDeclarationError, WaveSettings, read_wave_settings

PARTITION_SEPARATOR = "/"
POPULATION_PREFIX = "population:"  # a population file's name in a wave's inputs fingerprint


def partition_key(survey_id: str, wave_id: str) -> str:
    return f"{survey_id}{PARTITION_SEPARATOR}{wave_id}"


def split_partition_key(key: str) -> tuple[str, str]:
    survey_id, separator, wave_id = key.partition(PARTITION_SEPARATOR)
    if not separator or not survey_id or not wave_id:
        raise ValueError(f"partition key {key!r} is not of the form <survey_id>/<wave_id>")
    return survey_id, wave_id


@dataclass(frozen=True)
class LandedWave:
    survey_id: str
    wave_id: str
    files: tuple[Path, ...]
    digest_cache: dict[str, list] = field(default_factory=dict, compare=False, repr=False)
    settings_file: Path | None = None  # its wave.yaml, when it has one

    @property
    def partition_key(self) -> str:
        return partition_key(self.survey_id, self.wave_id)

    @functools.cached_property
    def export_digests(self) -> list[tuple[str, str]]:
        """Each export's name and sha256 (as the load log records them), read on first use (``digest_cache``
        updated)."""
        return [(path.name, self._sha256(path)) for path in self.files]

    @functools.cached_property
    def file_digests(self) -> list[tuple[str, str]]:
        """The exports' digests, and the population file's (a corrected population re-runs the wave)."""
        population = population_file(self.files[0].parent) if self.files else None
        if population is None or not population.is_file():
            return self.export_digests
        return [*self.export_digests, (f"{POPULATION_PREFIX}{population.name}", self._sha256(population))]

    def _sha256(self, path: Path) -> str:
        stat = path.stat()
        cached = self.digest_cache.get(str(path))
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2]
        sha = sha256_of(path)
        self.digest_cache[str(path)] = [stat.st_size, stat.st_mtime_ns, sha]
        return sha

    def inputs_fingerprint(self, codebook_digest: str) -> str:
        return inputs_fingerprint(self.file_digests, settings_bytes(self.settings_file), codebook_digest)


def settings_bytes(path: Path | None) -> bytes | None:
    """What a wave.yaml says, in a canonical form: a comment, the order of keys or line endings changed
    alone decide nothing (a file that does not parse counts as its bytes; loading it will say why)."""
    if path is None or not path.is_file():
        return None
    try:
        return read_wave_settings(path).model_dump_json(exclude_none=True).encode()
    except WaveDeclarationError:
        return path.read_bytes()


def inputs_fingerprint(named_digests: list[tuple[str, str]], wave_settings: bytes | None, codebook_digest: str) -> str:
    """The hash of a wave's files (names and sha256), its wave.yaml (``settings_bytes``), its codebook's
    digest and the trust reference list the wave's trusts are resolved and broken down by."""
    digest = hashlib.sha256()
    for name, sha in sorted(named_digests):
        digest.update(f"{name}:{sha}\n".encode())
    settings = hashlib.sha256(wave_settings).hexdigest() if wave_settings is not None else "-"
    digest.update(f"{WAVE_SETTINGS}:{settings}\ncodebook:{codebook_digest}\n"
                  f"trusts:{reference_digest()}\n".encode())
    return digest.hexdigest()


def population_file(wave_dir: Path) -> Path | None:
    """The population file the wave's wave.yaml names (``population_file``), if it names one; a wave.yaml that
    cannot be read names none here (loading the wave says why)."""
    settings = wave_dir / WAVE_SETTINGS
    if not settings.is_file():
        return None
    try:
        name = read_wave_settings(settings).population_file
    except WaveDeclarationError:
        return None
    return wave_dir / name if name else None


def population_digests(wave_dir: Path) -> list[tuple[str, str]]:
    """The population file's name and sha256, as a wave's inputs fingerprint counts it (none without one)."""
    path = population_file(wave_dir)
    return [(f"{POPULATION_PREFIX}{path.name}", sha256_of(path))] if path is not None and path.is_file() else []


def wave_files(wave_dir: Path, declared_in: Path | None = None) -> list[Path]:
    """The wave's export files in a stable order; hidden and partial files (``.name``) are ignored, and so is
    the population file that the wave.yaml in ``declared_in`` (default: the same folder) names."""
    population = population_file(declared_in or wave_dir)
    return sorted(
        p for p in wave_dir.glob("*")
        if p.is_file() and p.suffix.lower() in FILE_SUFFIXES and not p.name.startswith(".")
        and (population is None or p.name != population.name)
    )


def delivery_signature(files: list[Path], wave_dir: Path) -> tuple:
    """What tells one delivery of a wave from another without reading it: each file's name, size and
    modification time (a promotion renames a file, which keeps them), and the wave's wave.yaml."""
    settings = wave_dir / WAVE_SETTINGS
    return (tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files),
            settings.read_bytes() if settings.is_file() else None)


def wave_settings(wave_dir: Path) -> WaveSettings:
    """What the wave's ``wave.yaml`` says (nothing, if it has none)."""
    settings = wave_dir / WAVE_SETTINGS
    return read_wave_settings(settings) if settings.is_file() else WaveSettings()


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.is_dir() and not p.name.startswith("."))


def scan_landing(landing_dir: Path, digest_cache: dict[str, list] | None = None) -> list[LandedWave]:
    """Every wave with at least one file, by survey and wave id.

    ``digest_cache`` maps a file path to ``[size, mtime_ns, sha256]``; it is read, and updated in place
    as each wave's digests are first asked for.
    """
    cache = digest_cache if digest_cache is not None else {}
    waves = []
    for survey_dir in _visible_dirs(landing_dir):
        for wave_dir in _visible_dirs(survey_dir):
            files = wave_files(wave_dir)
            if not files:
                continue
            settings = wave_dir / WAVE_SETTINGS
            waves.append(LandedWave(survey_dir.name, wave_dir.name, tuple(files), cache,
                                    settings if settings.is_file() else None))
    return waves


def wave_declarations(landing_dir: Path, archive_dir: Path, survey_id: str) -> tuple[DeclaredWave, ...]:
    """The wave.yaml of each wave of a survey: the landing folder's, or, for a wave whose landing folder
    is absent, the copy archived when it was last loaded."""
    declared = {}
    for root in (archive_dir / survey_id, landing_dir / survey_id):  # landing last: it wins
        if not root.is_dir():
            continue
        for wave_dir in _visible_dirs(root):
            path = wave_dir / WAVE_SETTINGS
            if root.parent == archive_dir and (landing_dir / survey_id / wave_dir.name).is_dir():
                continue  # the landing folder is there: its wave.yaml, or none, is the declaration
            if path.is_file():
                declared[wave_dir.name] = DeclaredWave(wave_dir.name, read_wave_settings(path), str(path))
            else:
                declared.pop(wave_dir.name, None)
    return tuple(declared[w] for w in sorted(declared))


class ArchivedOtherBytes(RuntimeError):
    """A file's bytes, as copied into the archive, are not those validated: it changed in between."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"its files changed while it was validated ({path.name} no longer holds the bytes read)")


def copy_hashing(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target``; the sha256 of the bytes copied, read once."""
    digest = hashlib.sha256()
    with open(source, "rb") as reader, open(target, "wb") as writer:
        for block in iter(lambda: reader.read(1 << 20), b""):
            digest.update(block)
            writer.write(block)
    return digest.hexdigest()


def archive_files(files: list[Path], archive_dir: Path, home_root: Path,
                  digests: dict[str, str] | None = None) -> dict[str, str]:
    """Keep a copy of each file under ``archive_dir``, named by its content, so that every load can be
    traced to the exact bytes it read; returns each file's archived path relative to the home, by file
    name. ``digests`` are the sha256 of each file as validation read it (by file name): the copy is hashed
    as it is made, and ``ArchivedOtherBytes`` raised, keeping nothing, if the file has changed since."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    archived = {}
    for path in files:
        expected = (digests or {}).get(path.name)
        digest = expected or sha256_of(path)
        target = archive_dir / f"{digest[:16]}-{path.name}"
        if not target.exists():  # an archived copy was checked against its name when it was made
            partial = target.with_name(f".{target.name}.partial")
            copied = copy_hashing(path, partial)
            if copied != digest:
                partial.unlink()
                raise ArchivedOtherBytes(path)
            partial.replace(target)
        archived[path.name] = target.relative_to(home_root).as_posix()
    return archived


def archive_declaration(wave_dir: Path, archive_dir: Path) -> None:
    """Keep the wave.yaml a load used beside the wave's archived files (or none, if it had none)."""
    source, target = wave_dir / WAVE_SETTINGS, archive_dir / WAVE_SETTINGS
    if source.is_file():
        archive_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{WAVE_SETTINGS}.partial")
        shutil.copyfile(source, partial)
        partial.replace(target)
    else:
        target.unlink(missing_ok=True)
