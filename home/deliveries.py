"""`survey ingest`: a delivered file waits beside its wave's landing folder, is read once by the wave's run,
and replaces the wave's files only when every file of it is readable.

The file is copied (and hashed on the way: one pass over it) into ``<wave dir>/.pending-<id>/``, where
neither the landing sensor nor `survey run` looks. The journal ``delivery.json`` there records the wave's
wave.yaml as it was before the command merged its dates into it. Then:

- the wave's run reads the pending file and, once the file-level check passes, promotes it
  (``Delivery.promote``): the files it replaces move to ``<home>/archive/<survey>/<wave>/replaced-<time>/``
  and the new file into the landing folder;
- a refusal rolls back (``Delivery.roll_back``): the pending folder goes and wave.yaml is restored byte
  for byte (or removed, if there was none), so a refused file changes nothing;
- a command killed half-way is settled by the next one (``recover_deliveries``): a promotion under way is
  finished, anything earlier rolled back.

A file with the same bytes as one already landed for the wave is not copied again.

What belongs here: the files and folders of a delivery, plain file handling. What does not: running the
wave (``pipelines.runner``) or reading the file's rows (``exports``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from exports import sha256_of
from home.landing import copy_hashing, wave_files
from schemas.waves import ACCEPTED_ON_PURPOSE, OF_THE_FILE, WAVE_SETTINGS, WaveSettings

PENDING_PREFIX = ".pending-"
JOURNAL = "delivery.json"
PENDING, PROMOTING, COMMITTED = "pending", "promoting", "committed"


@dataclass(frozen=True)
class Delivery:
    """A delivery waiting in ``pending_dir`` (inside ``wave_dir``) to replace the wave's files."""

    wave_dir: Path
    pending_dir: Path
    same_as: str | None = None  # the landed file with the same bytes, when nothing new was copied

    @property
    def files(self) -> list[Path]:
        return wave_files(self.pending_dir, declared_in=self.wave_dir)

    @property
    def settings_path(self) -> Path:
        return self.wave_dir / WAVE_SETTINGS

    def _journal(self) -> dict:
        return json.loads((self.pending_dir / JOURNAL).read_text(encoding="utf-8"))

    def _write_journal(self, journal: dict) -> None:
        partial = self.pending_dir / f".{JOURNAL}.partial"
        partial.write_text(json.dumps(journal, indent=1), encoding="utf-8")
        partial.replace(self.pending_dir / JOURNAL)

    def promote(self, archive_dir: Path) -> list[Path]:
        """Make the pending files the wave's files; returns where the replaced ones went. Resumable."""
        journal = self._journal()
        if journal["state"] != PROMOTING:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            journal.update(state=PROMOTING, replaced_dir=str(archive_dir / f"replaced-{stamp}"),
                           new_files=[p.name for p in self.files])
            self._write_journal(journal)  # from here on, a killed command is finished, not undone
        replaced_dir = Path(journal["replaced_dir"])
        new = set(journal["new_files"])
        replaced = []
        for path in wave_files(self.wave_dir):
            if path.name in new and not (self.pending_dir / path.name).exists():
                continue  # a new file an earlier, interrupted promotion already moved in
            replaced_dir.mkdir(parents=True, exist_ok=True)
            replaced.append(Path(shutil.move(str(path), replaced_dir / path.name)))
        for path in self.files:
            path.replace(self.wave_dir / path.name)
        shutil.rmtree(self.pending_dir)
        return replaced

    def roll_back(self) -> None:
        """Put the landing folder back as it was before the delivery: wave.yaml restored byte for byte,
        files untouched, and a wave folder the delivery created removed."""
        journal = self._journal()
        before = journal.get("wave_settings_before")
        if before is None:
            self.settings_path.unlink(missing_ok=True)
        else:
            _write_bytes(self.settings_path, base64.b64decode(before))
        shutil.rmtree(self.pending_dir)
        if not journal.get("wave_dir_existed", True) and not any(self.wave_dir.iterdir()):
            self.wave_dir.rmdir()

    def commit(self) -> None:
        """Keep the delivery's wave.yaml when it brought no new file (the same bytes were landed)."""
        journal = self._journal()
        journal["state"] = COMMITTED  # a command killed while removing the folder has still kept it
        self._write_journal(journal)
        shutil.rmtree(self.pending_dir)


def merged_settings(current: WaveSettings | None, update: dict) -> WaveSettings:
    """A wave.yaml with ``update``'s fields set over the current ones. The layout and what was accepted of
    a file on purpose (a share of quarantined rows, times outside the fieldwork) describe the file
    delivered, so a delivery that gives none drops the old one (the layout is detected again; the default
    limits hold again)."""
    fields = (current or WaveSettings()).model_dump(exclude_none=True)
    for of_the_file in OF_THE_FILE:
        fields.pop(of_the_file, None)
    fields.update({k: v for k, v in update.items() if v is not None})
    return WaveSettings.model_validate(fields)


def settings_file(settings: WaveSettings, survey_id: str, wave_id: str) -> bytes:
    """The bytes of a wave.yaml holding ``settings``."""
    header = (f"# Wave {wave_id} of {survey_id}, declared beside its files (written by `survey ingest`).\n"
              "# Fields: fieldwork_start, fieldwork_end (YYYY-MM-DD), population_trusts, synthetic, layout, "
              f"{', '.join(ACCEPTED_ON_PURPOSE)}.\n")
    fields = settings.model_dump(exclude_none=True)
    return (header + (yaml.safe_dump(fields, sort_keys=False) if fields else "")).encode("utf-8")


def stage_delivery(source: Path, wave_dir: Path, settings: bytes | None) -> Delivery:
    """Copy ``source`` into a new pending folder of the wave (hashing it on the way) and write the wave's
    new wave.yaml ``settings`` (None: leave it as it is), journaled so it can be undone."""
    existed = wave_dir.is_dir()
    wave_dir.mkdir(parents=True, exist_ok=True)
    pending = wave_dir / f"{PENDING_PREFIX}{uuid.uuid4().hex[:12]}"
    pending.mkdir()
    delivery = Delivery(wave_dir, pending)
    current = delivery.settings_path
    before = current.read_bytes() if current.is_file() else None
    delivery._write_journal({"state": PENDING, "source": source.name, "wave_dir_existed": existed,
                             "wave_settings_before": base64.b64encode(before).decode() if before is not None else None})
    partial = pending / f".{source.name}.partial"
    digest = copy_hashing(source, partial)
    same = [p for p in wave_files(wave_dir) if p.stat().st_size == partial.stat().st_size and sha256_of(p) == digest]
    if same:
        partial.unlink()
        delivery = Delivery(wave_dir, pending, same_as=same[0].name)
    else:
        partial.replace(pending / source.name)
    if settings is not None and settings != before:
        _write_bytes(current, settings)
    return delivery


def recover_deliveries(landing_dir: Path, archive_dir: Path, survey_id: str) -> list[str]:
    """Settle the deliveries of the survey's waves that a killed command left: finish promotions under way, roll
    back the rest. Call with the survey's writer lock held (another survey's deliveries may be under way in
    another process); returns what was done, for the terminal."""
    done = []
    for pending in sorted((landing_dir / survey_id).glob(f"*/{PENDING_PREFIX}*")):
        delivery = Delivery(pending.parent, pending)
        survey_id, wave_id = pending.parent.parent.name, pending.parent.name
        try:
            state = delivery._journal()["state"]
        except (OSError, ValueError, KeyError):
            shutil.rmtree(pending)  # killed before its journal was written: nothing else was touched
            done.append(f"{survey_id}/{wave_id}: removed an unfinished delivery")
            continue
        if state == PROMOTING:
            delivery.promote(archive_dir / survey_id / wave_id)
            done.append(f"{survey_id}/{wave_id}: finished promoting an interrupted delivery")
        elif state == COMMITTED:
            shutil.rmtree(pending)
        else:
            delivery.roll_back()
            done.append(f"{survey_id}/{wave_id}: rolled back an interrupted delivery")
    return done


def _write_bytes(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
