"""A survey's snapshot published into a DuckLake as well (a prototype): run by the DuckLake side environment.

When the settings name a DuckLake (``SURVEY_DUCKLAKE_CATALOG``, ``SURVEY_DUCKLAKE_DATA_PATH``,
``SURVEY_DUCKLAKE_PYTHON``), the ``analyst_warehouse`` asset publishes each survey's snapshot into it after the
DuckDB file and the Parquet: ``warehouse/ducklake_writer.py``, run by the side environment's Python (DuckDB 1.5.5
and its DuckLake extension, which DuckDB 2 cannot load), replaces the survey's schema in the lake in one
transaction, writing the respondents and their answers only for the waves whose load changed. The catalog, which
may hold a password, goes to that process in its environment, never on its command line, and is named by its
variable in any message.

What does not belong here: what the writer does in the lake (``warehouse.ducklake_writer``, the program itself).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from warehouse.load import RESPONDENT_TABLES

WRITER = Path(__file__).with_name("ducklake_writer.py")
CATALOG_ENV = "SURVEY_DUCKLAKE_CATALOG"  # as the writer reads it
TIMEOUT_S = 3600
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
URI_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
PASSWORD = re.compile(r"password\s*=\s*('[^']*'|\"[^\"]*\"|[^\s\"']+)", re.IGNORECASE)


class DuckLakeFailed(RuntimeError):
    """The survey was not published into the DuckLake; the DuckDB warehouse and the Parquet are published."""


def publish_to_ducklake(snapshot: Path, survey_id: str, python: Path, catalog: str, data_path: Path,
                        by_wave: tuple[str, ...] = RESPONDENT_TABLES, keep_days: float | None = None) -> dict:
    """Replace the survey's schema in the DuckLake with its snapshot's tables (the tables ``by_wave``, by default those
    with a row per respondent or answer, only for the waves whose latest load changed); returns the rows of each table,
    what was written, the attempts and the seconds, and with ``keep_days`` the lake's snapshots expired and files
    removed after it (or why they were not: the publication stands either way). Call with the survey's writer lock,
    after its snapshot is published."""
    # What the program needs and no more: not the pseudonym key, not the other settings; libpq's own PG* variables
    # (a password file, a service) pass through.
    env = {k: v for k, v in os.environ.items() if k.startswith("PG") or k in PASSED_ENV} | {CATALOG_ENV: catalog}
    try:
        keep = ("--keep-days", str(keep_days)) if keep_days is not None else ()
        done = subprocess.run([str(python), str(WRITER), str(snapshot), survey_id, str(data_path),
                               "--by-wave", ",".join(by_wave), *keep], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DuckLakeFailed(f"{survey_id} not published into the DuckLake: {python}: {exc}") from None
    if done.returncode != 0:
        reason = _without_catalog((done.stderr.strip().splitlines() or ["failed"])[-1], catalog)
        raise DuckLakeFailed(f"{survey_id} not published into the DuckLake: {reason}")
    published = json.loads(done.stdout)
    if published.get("expiry_failed"):
        published["expiry_failed"] = _without_catalog(published["expiry_failed"], catalog)
    return published


def _without_catalog(line: str, catalog: str) -> str:
    """``line`` with the catalog, as given or as the extension quotes it (without its ``postgres:``), named by its
    variable, and any password left in it hidden."""
    for form in (catalog, catalog.split(":", 1)[-1]):
        line = line.replace(form, f"${CATALOG_ENV}")
    return URI_PASSWORD.sub(r"\1(hidden)@", PASSWORD.sub("password=(hidden)", line))
