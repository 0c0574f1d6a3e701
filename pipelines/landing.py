"""The landing folder: which waves have arrived, their files, and a fingerprint of their content.

A wave is the set of export files (``.csv``, ``.xlsx``, ``.sav``) in ``<home>/landing/<survey_id>/<wave_id>/``,
with an optional ``wave.yaml`` naming their layout; its fingerprint is a
hash of the files' names and sha256 digests, so a re-delivered identical file changes nothing and any
corrected file changes it. File digests are cached by (size, modification time) so that a sensor ticking
every few seconds does not re-read large files, and computed only when the fingerprint is first asked
for (a refresh of a home with nothing published does not need it; a wave of a million respondents takes
seconds to read).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from schemas.exports import FILE_SUFFIXES, sha256_of

PARTITION_SEPARATOR = "/"
WAVE_SETTINGS = "wave.yaml"  # optional: `layout: <name>` when detection should not be relied on


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

    @property
    def partition_key(self) -> str:
        return partition_key(self.survey_id, self.wave_id)

    @functools.cached_property
    def fingerprint(self) -> str:
        """The hash of the files' names and contents, read on first use (``digest_cache`` updated)."""
        digests = []
        for path in self.files:
            stat = path.stat()
            cached = self.digest_cache.get(str(path))
            if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
                sha = cached[2]
            else:
                sha = sha256_of(path)
                self.digest_cache[str(path)] = [stat.st_size, stat.st_mtime_ns, sha]
            digests.append((path.name, sha))
        return fingerprint(digests)


def wave_files(wave_dir: Path) -> list[Path]:
    """The wave's export files in a stable order; hidden and partial files (``.name``) are ignored."""
    return sorted(
        p for p in wave_dir.glob("*")
        if p.is_file() and p.suffix.lower() in FILE_SUFFIXES and not p.name.startswith(".")
    )


def wave_layout(wave_dir: Path) -> str | None:
    """The layout a wave names in its ``wave.yaml``, if it names one."""
    settings = wave_dir / WAVE_SETTINGS
    if not settings.is_file():
        return None
    return (yaml.safe_load(settings.read_text(encoding="utf-8")) or {}).get("layout")


def fingerprint(named_digests: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for name, sha in sorted(named_digests):
        digest.update(f"{name}:{sha}\n".encode())
    return digest.hexdigest()


def scan_landing(landing_dir: Path, digest_cache: dict[str, list] | None = None) -> list[LandedWave]:
    """Every wave with at least one file, by survey and wave id.

    ``digest_cache`` maps a file path to ``[size, mtime_ns, sha256]``; it is read, and updated in place
    as each wave's fingerprint is first asked for.
    """
    cache = digest_cache if digest_cache is not None else {}
    waves = []
    for survey_dir in sorted(p for p in landing_dir.glob("*") if p.is_dir()):
        for wave_dir in sorted(p for p in survey_dir.glob("*") if p.is_dir()):
            files = wave_files(wave_dir)
            if not files:
                continue
            waves.append(LandedWave(survey_dir.name, wave_dir.name, tuple(files), cache))
    return waves


def archive_files(files: list[Path], archive_dir: Path, digests: dict[str, str] | None = None) -> dict[str, str]:
    """Keep a copy of each file under ``archive_dir``, named by its content, so that every load can be
    traced to the exact bytes it read; returns each file's archived path by file name. ``digests`` (sha256
    by file name, as validation computed them) saves reading each file again."""
    import shutil

    archive_dir.mkdir(parents=True, exist_ok=True)
    archived = {}
    for path in files:
        digest = (digests or {}).get(path.name) or sha256_of(path)
        target = archive_dir / f"{digest[:16]}-{path.name}"
        if not target.exists():
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(path, partial)
            partial.replace(target)
        archived[path.name] = str(target)
    return archived
