"""A survey's snapshot published into a DuckLake as well (a prototype): run by the DuckLake side environment.

When the settings name a DuckLake (``SURVEY_DUCKLAKE_CATALOG``, ``SURVEY_DUCKLAKE_DATA_PATH``,
``SURVEY_DUCKLAKE_PYTHON``), the ``analyst_warehouse`` asset publishes each survey's snapshot into it after the
DuckDB file and the Parquet: ``warehouse/ducklake_writer.py``, run by the side environment's Python (DuckDB 1.5.5
and its DuckLake extension, which DuckDB 2 cannot load), replaces the survey's schema in the lake in one
transaction. The catalog, which may hold a password, goes to that process in its environment, never on its command
line, and is named by its variable in any message.

What does not belong here: what the writer does in the lake (``warehouse.ducklake_writer``, the program itself).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

WRITER = Path(__file__).with_name("ducklake_writer.py")
CATALOG_ENV = "SURVEY_DUCKLAKE_CATALOG"  # as the writer reads it
TIMEOUT_S = 3600
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
URI_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
PASSWORD = re.compile(r"password\s*=\s*('[^']*'|\"[^\"]*\"|[^\s\"']+)", re.IGNORECASE)


class DuckLakeFailed(RuntimeError):
    """The survey was not published into the DuckLake; the DuckDB warehouse and the Parquet are published."""


def publish_to_ducklake(snapshot: Path, survey_id: str, python: Path, catalog: str, data_path: Path) -> dict:
    """Replace the survey's schema in the DuckLake with its snapshot's tables; returns the rows of each table, the
    attempts and the seconds. Call with the survey's writer lock, after its snapshot is published."""
    # What the program needs and no more: not the pseudonym key, not the other settings; libpq's own PG* variables
    # (a password file, a service) pass through.
    env = {k: v for k, v in os.environ.items() if k.startswith("PG") or k in PASSED_ENV} | {CATALOG_ENV: catalog}
    try:
        done = subprocess.run([str(python), str(WRITER), str(snapshot), survey_id, str(data_path)], env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DuckLakeFailed(f"{survey_id} not published into the DuckLake: {python}: {exc}") from None
    if done.returncode != 0:
        reason = _without_catalog((done.stderr.strip().splitlines() or ["failed"])[-1], catalog)
        raise DuckLakeFailed(f"{survey_id} not published into the DuckLake: {reason}")
    return json.loads(done.stdout)


def _without_catalog(line: str, catalog: str) -> str:
    """``line`` with the catalog, as given or as the extension quotes it (without its ``postgres:``), named by its
    variable, and any password left in it hidden."""
    for form in (catalog, catalog.split(":", 1)[-1]):
        line = line.replace(form, f"${CATALOG_ENV}")
    return URI_PASSWORD.sub(r"\1(hidden)@", PASSWORD.sub("password=(hidden)", line))
