"""Waves as a data engineer manages them: withdrawing one, and listing all with their files and status.

**Withdrawing** a wave (`survey wave remove`, or `survey run --prune` for a landing folder that has gone)
moves its landing folder, its archived wave.yaml and every leadership pack that shows it into
``<home>/archive/<survey>/<wave>/removed-<time>/``, removes its rows from the working database
(``warehouse.removal``, which records who, when and which loads in ``wave_removals``) and forgets its
Dagster partition; the caller then publishes, so the analysts' warehouse, trends and the pack lose it.
The landing folder moves first: a command killed before the rows go leaves a wave reported as missing,
which the same command withdraws when run again, never a wave loaded again by the next run.

**Listing** reads only what needs no lock: the landing folder, the codebooks, the published warehouse
(beside analysts) and Dagster's run history, so it answers while a long load runs.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.constants import WAVE_PARTITIONS
from assets.partitions import PARTITION_TAG
from home.landing import partition_key, scan_landing, wave_files
from home.settings import SurveyHome
from home.staleness import codebook_digest
from pipelines.instance import instance_for
from schemas.waves import WAVE_SETTINGS
from warehouse.publication import published_inputs
from warehouse.removal import remove_wave
from warehouse.reports import latest_loads, wave_removals
from warehouse.working_databases import working_database

PACK_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Withdrawal:
    survey_id: str
    wave_id: str
    respondents: int
    archived_to: str  # relative to the home
    moved: tuple[str, ...]  # what moved there, relative to the home


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's)
        return "unknown"


def withdraw_wave(home: SurveyHome, survey_id: str, wave_id: str, reason: str,
                  removed_by: str | None = None) -> Withdrawal:
    """Take a wave out of the landing folder and the survey's working database; call with its writer lock held,
    then publish. A wave with nothing left to withdraw raises ``LookupError``."""
    wave_dir = home.wave_dir(survey_id, wave_id)
    archive = home.archive_dir / survey_id / wave_id
    _refuse_named_by_codebook(home, survey_id, wave_id)
    # A withdrawal killed after its files moved is finished in the folder they went to.
    target = _unrecorded_removal(home, survey_id, archive) or archive / (
        f"removed-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%fZ')}")
    moves = []
    if wave_dir.is_dir():
        moves.append((wave_dir, target / "landing"))
    if (archive / WAVE_SETTINGS).is_file():
        moves.append((archive / WAVE_SETTINGS, target / WAVE_SETTINGS))
    moves += [(pack, target / "publish" / pack.name) for pack in _packs_showing(home, survey_id, wave_id)]
    loaded = home.working_path(survey_id).exists() and _has_rows(home, survey_id, wave_id)
    if not moves and not loaded:
        raise LookupError(f"{survey_id}/{wave_id}: no landing folder and nothing loaded: nothing to withdraw")
    target.mkdir(parents=True, exist_ok=True)
    for source, destination in moves:  # the landing folder first: see the module's docstring
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), destination)
    archived_to = target.relative_to(home.root).as_posix()
    with working_database(home, survey_id) as con:
        respondents = remove_wave(con, survey_id, wave_id, removed_by or _user(), reason, archived_to)
    with instance_for(home) as instance:
        key = partition_key(survey_id, wave_id)
        if instance.has_dynamic_partition(WAVE_PARTITIONS, key):
            instance.delete_dynamic_partition(WAVE_PARTITIONS, key)
    return Withdrawal(survey_id, wave_id, respondents, archived_to,
                      tuple(d.relative_to(home.root).as_posix() for _, d in moves))


def _refuse_named_by_codebook(home: SurveyHome, survey_id: str, wave_id: str) -> None:
    """A wave only its wave.yaml declares cannot go while the codebook names it (``asked_in``,
    ``asked_from``, a rewording): the codebook would name a wave nothing declares."""
    codebook = home.codebooks.get(survey_id)
    if codebook is None or codebook.declares_itself(wave_id):
        return
    naming = [q.id for q in codebook.questions
              if wave_id in [*q.named_waves, *(r.wave for r in q.rewordings), *(w for o in q.options for w in o.named_waves)]]
    if naming:
        raise LookupError(
            f"{survey_id}/{wave_id}: the codebook names wave {wave_id} ({', '.join(naming)}) and only its "
            f"{WAVE_SETTINGS} declares it: declare it in the codebook's `waves:`, or change those questions, first")


def _unrecorded_removal(home: SurveyHome, survey_id: str, archive: Path) -> Path | None:
    """The newest ``removed-*`` folder of a wave that no ``wave_removals`` row names: one a killed
    withdrawal moved files into."""
    folders = sorted(archive.glob("removed-*"))
    if not folders or not home.working_path(survey_id).exists():
        return None
    with working_database(home, survey_id) as con:
        recorded = {r[0] for r in con.execute("SELECT archived_to FROM wave_removals").fetchall()}
    newest = folders[-1]
    return None if newest.relative_to(home.root).as_posix() in recorded else newest


def _has_rows(home: SurveyHome, survey_id: str, wave_id: str) -> bool:
    with working_database(home, survey_id) as con:
        return bool(con.execute("SELECT count(*) FROM load_log WHERE survey_id = ? AND wave_id = ?",
                                [survey_id, wave_id]).fetchone()[0])


def _packs_showing(home: SurveyHome, survey_id: str, wave_id: str) -> list[Path]:
    """The pack folders of a survey whose manifest lists the wave (its own, and later waves' trends)."""
    packs = []
    for manifest in sorted((home.root / "publish" / survey_id).glob(f"*/{PACK_MANIFEST}")):
        try:
            waves = json.loads(manifest.read_text(encoding="utf-8")).get("waves", [])
        except (OSError, ValueError):
            waves = [manifest.parent.name]
        if wave_id in waves or manifest.parent.name == wave_id:
            packs.append(manifest.parent)
    return packs


@dataclass
class WaveStatus:
    """One line of `survey wave list`."""

    survey_id: str
    wave_id: str
    declared_in: str  # "codebook", "wave.yaml", "codebook and wave.yaml" or "not declared"
    fieldwork: str
    files: list[str] = field(default_factory=list)
    status: str = ""
    last_load: str = ""


def list_waves(home: SurveyHome) -> list[WaveStatus]:
    """Every wave a codebook or wave.yaml declares, a landing folder holds, the published warehouse
    holds, or that was withdrawn: its files, status and last load, in survey and fieldwork order."""
    codebooks = home.codebooks
    landed = {w.partition_key: w for w in scan_landing(home.landing_dir)}
    published, loads, removals = _published_state(home)
    last_runs = _last_runs(home)
    keys = {partition_key(s, w) for s, w in [*published, *loads, *removals]} | set(landed)
    for codebook in codebooks.values():
        keys |= {partition_key(codebook.survey_id, w.id) for w in codebook.waves}
    rows = []
    for key in keys:
        survey_id, wave_id = key.split("/", 1)
        codebook = codebooks.get(survey_id)
        rows.append(_status(home, key, codebook, landed.get(key), published.get((survey_id, wave_id), "-"),
                            loads.get((survey_id, wave_id)), removals.get((survey_id, wave_id)), last_runs.get(key)))

    def order(row: WaveStatus):
        codebook = codebooks.get(row.survey_id)
        waves = [w.id for w in codebook.waves] if codebook else []
        return (row.survey_id, waves.index(row.wave_id) if row.wave_id in waves else len(waves), row.wave_id)

    return sorted(rows, key=order)


def _status(home, key, codebook, landed, published, load, removal, last_run) -> WaveStatus:
    survey_id, wave_id = key.split("/", 1)
    declared = [w for w in (codebook.waves if codebook else ()) if w.id == wave_id]
    in_codebook = bool(codebook and codebook.declares_itself(wave_id))
    in_file = (home.wave_dir(survey_id, wave_id) / WAVE_SETTINGS).is_file()
    declared_in = " and ".join(n for n, flag in (("codebook", in_codebook), ("wave.yaml", in_file)) if flag)
    fieldwork = f"{declared[0].fieldwork_start} to {declared[0].fieldwork_end}" if declared else ""
    row = WaveStatus(survey_id, wave_id, declared_in or ("wave.yaml (archived)" if declared else "not declared"),
                     fieldwork)
    if landed is not None:
        row.files = [p.name for p in landed.files]
    elif home.wave_dir(survey_id, wave_id).is_dir():
        row.files = [p.name for p in wave_files(home.wave_dir(survey_id, wave_id))]
    if load is not None:
        row.last_load = (f"{load['loaded_at']:%Y-%m-%d %H:%M} UTC, run {load['run_id'][:8]}: {load['rows_read']} read, "
                         f"{load['rows_loaded']} loaded, {load['rows_quarantined']} quarantined")
    failed = f"; last run {last_run[1][:8]} {last_run[0].lower()}" if last_run and last_run[0] != "SUCCESS" else ""
    if landed is not None:
        if published == "-":
            row.status = "not published yet: loads at the next run" + failed
        elif codebook is not None and published == landed.inputs_fingerprint(codebook_digest(home, landed)):
            row.status = "published"
        else:
            row.status = "changed since published (files, wave.yaml or codebook): loads at the next run" + failed
    elif published != "-":
        row.status = "published, but its landing folder is gone: `survey run --prune` withdraws it"
    elif removal is not None:
        row.status = f"withdrawn {removal['removed_at']:%Y-%m-%d} by {removal['removed_by']} ({removal['archived_to']})"
    else:
        row.status = "declared, no file landed yet"
    return row


def _published_state(home: SurveyHome) -> tuple[dict, dict, dict]:
    if not home.warehouse_path.exists():
        return {}, {}, {}
    with duckdb.connect(str(home.warehouse_path), read_only=True) as con:
        try:
            removals = wave_removals(con)
        except duckdb.CatalogException:  # a file published before withdrawals were recorded
            removals = {}
        return published_inputs(con), latest_loads(con), removals


def _last_runs(home: SurveyHome) -> dict[str, tuple[str, str]]:
    """The status and id of the latest Dagster run of each wave's partition."""
    if not home.dagster_home.is_dir():
        return {}
    last = {}
    with instance_for(home) as instance:
        for run in instance.get_runs(limit=500):  # newest first
            key = run.tags.get(PARTITION_TAG)
            if key and key not in last:
                last[key] = (run.status.value, run.run_id)
    return last
