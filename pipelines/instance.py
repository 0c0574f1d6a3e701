"""The Dagster instance of a survey home: ``<home>/dagster``, configured by the project's ``dagster.yaml``."""

from __future__ import annotations

import os
import shutil

import dagster as dg

from home.settings import PROJECT_ROOT, SurveyHome

INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"


def prepare_dagster_home(home: SurveyHome) -> str:
    """Create ``<home>/dagster`` with the project's instance settings; returns its path."""
    if not INSTANCE_CONFIG.is_file():
        raise FileNotFoundError(
            f"{INSTANCE_CONFIG} not found: install the project from its folder (pip install -e .)"
        )
    home.dagster_home.mkdir(parents=True, exist_ok=True)
    target = home.dagster_home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != INSTANCE_CONFIG.read_bytes():
        shutil.copyfile(INSTANCE_CONFIG, target)
    return str(home.dagster_home)


def instance_for(home: SurveyHome) -> dg.DagsterInstance:
    """The home's persistent Dagster instance (the one `survey dev` shows in the UI)."""
    dagster_home = prepare_dagster_home(home)
    os.environ["DAGSTER_HOME"] = dagster_home
    return dg.DagsterInstance.from_config(dagster_home)
