"""`survey ingest`: put one delivered file in its wave's landing folder, load it, and report.

The file is checked whole before the landing folder is touched, so a rejected file changes nothing.
A file with the same bytes as one already landed for the wave is recognised and loads nothing new. Any
other file replaces the wave: the files it replaces move to ``<home>/archive/<survey>/<wave>/replaced-<time>/``
(every loaded file is also archived by content when it is loaded), so the previous version stays traceable.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.landing import WAVE_SETTINGS, partition_key, wave_files
from pipelines.settings import SurveyHome
from schemas.exports import WaveFileRejected, read_export, sha256_of


@dataclass(frozen=True)
class Landing:
    outcome: str  # "landed", "already_landed"
    path: Path
    replaced: tuple[Path, ...] = ()
    same_as: str | None = None


def land_file(home: SurveyHome, source: Path, survey_id: str, wave_id: str, layout: str | None = None,
              max_bytes: int | None = None) -> Landing:
    """Check ``source`` can be read whole, then make it the wave's file; raises ``WaveFileRejected``."""
    codebook = home.codebook(survey_id)
    codebook.wave(wave_id)
    read_export(source, codebook.for_wave(wave_id), layout=layout, max_bytes=max_bytes)
    wave_dir = home.wave_dir(survey_id, wave_id)
    digest = sha256_of(source)
    existing = wave_files(wave_dir) if wave_dir.is_dir() else []
    for path in existing:
        if sha256_of(path) == digest:
            return Landing("already_landed", path, same_as=path.name)
    replaced = []
    if existing:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        replaced_dir = home.archive_dir / survey_id / wave_id / f"replaced-{stamp}"
        replaced_dir.mkdir(parents=True, exist_ok=True)
        for path in existing:
            replaced.append(Path(shutil.move(str(path), replaced_dir / path.name)))
    wave_dir.mkdir(parents=True, exist_ok=True)
    target = wave_dir / source.name
    # Written under a hidden name, then renamed: the sensor never sees half a file.
    partial = wave_dir / f".{source.name}.partial"
    shutil.copyfile(source, partial)
    partial.replace(target)
    settings = wave_dir / WAVE_SETTINGS
    if layout:
        settings.write_text(yaml.safe_dump({"layout": layout}), encoding="utf-8")
    elif settings.exists():
        settings.unlink()
    return Landing("landed", target, tuple(replaced))


__all__ = ["Landing", "WaveFileRejected", "land_file", "partition_key"]
