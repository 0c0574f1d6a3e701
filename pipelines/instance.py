"""The Dagster instance of a survey home: ``<home>/dagster``, configured by the project's ``dagster.yaml`` or a
deployment's (``SURVEY_DAGSTER_YAML``: PostgreSQL storage for a team, ``deploy/dagster-postgres.yaml``). Both limit
the queue by the run tag ``survey_id`` (one run per survey at a time), a limit that holds from the first daemon tick
of a fresh instance, as the pool that earlier releases used did not."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil

import dagster as dg

from home.settings import PROJECT_ROOT, SurveyHome

INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"
WRITTEN_RECORD = ".written-by-survey.json"  # the sha256 of the dagster.yaml the command last wrote
# The project's dagster.yaml as earlier releases copied it into homes (before they recorded what they wrote):
# a home holding one of these is updated, any other file is a deployment's own.
PROJECT_INSTANCE_VERSIONS = {
    "515b1dd99f8a21024be0977cc5813c959ec07eceda685401ede31d69404aec1a",
    "b32e04eaece24485d2b1c8f0ba0b637a300dd01b04185dbaf9cf2caa4628e44c",
}
log = logging.getLogger(__name__)


def prepare_dagster_home(home: SurveyHome) -> str:
    """Create ``<home>/dagster`` with its instance settings; returns its path.

    The settings are the project's ``dagster.yaml``, or the file ``SURVEY_DAGSTER_YAML`` names (a deployment's,
    such as ``deploy/dagster-postgres.yaml``). A ``<home>/dagster/dagster.yaml`` that the command did not write
    (a deployment's own, or edited by hand) is never overwritten silently: without ``SURVEY_DAGSTER_YAML`` it is
    kept and a warning says so; with it, it is replaced and kept beside as ``dagster.yaml.<time>.bak``."""
    chosen = home.settings.dagster_yaml
    source = chosen.resolve() if chosen is not None else INSTANCE_CONFIG
    if not source.is_file():
        raise FileNotFoundError(f"{source} not found: " + ("SURVEY_DAGSTER_YAML names no file" if chosen is not None
                                else "install the project from its folder (pip install -e .)"))
    home.dagster_home.mkdir(parents=True, exist_ok=True)
    target, record = home.dagster_home / "dagster.yaml", home.dagster_home / WRITTEN_RECORD
    wanted = source.read_bytes()
    if target.exists():
        current = target.read_bytes()
        if current == wanted:
            _record(record, current)
            return str(home.dagster_home)
        written = json.loads(record.read_text(encoding="utf-8")).get("sha256") if record.is_file() else None
        ours = _sha256(current) in ({written} if written else PROJECT_INSTANCE_VERSIONS)
        if not ours:
            if chosen is None:
                log.warning("Kept %s, which this command did not write (a deployment's own settings); set "
                            "SURVEY_DAGSTER_YAML to the file the instance should use to replace it", target)
                return str(home.dagster_home)
            backup = target.with_name(f"dagster.yaml.{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.bak")
            shutil.copyfile(target, backup)
            log.warning("Replaced %s with %s, as SURVEY_DAGSTER_YAML says; the previous settings are in %s", target,
                        source, backup.name)
    partial = target.with_name(".dagster.yaml.partial")
    partial.write_bytes(wanted)
    partial.replace(target)
    _record(record, wanted)
    return str(home.dagster_home)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record(record, data: bytes) -> None:
    """Remember what the command wrote, so that a later edit is told from it."""
    text = json.dumps({"sha256": _sha256(data)}) + "\n"
    if not record.is_file() or record.read_text(encoding="utf-8") != text:
        record.write_text(text, encoding="utf-8")


def instance_for(home: SurveyHome) -> dg.DagsterInstance:
    """The home's persistent Dagster instance (the one `survey dev` shows in the UI)."""
    dagster_home = prepare_dagster_home(home)
    os.environ["DAGSTER_HOME"] = dagster_home
    return dg.DagsterInstance.from_config(dagster_home)
