"""The leadership pack of a survey: an Excel workbook, CSV files of the headline and trend tables, and a
manifest.

Written to ``<home>/publish/<survey_id>/<wave_id>/`` for the latest loaded wave, with the trend across all
waves. Only aggregates leave the warehouse: no respondent-level row and no free text is ever read here.
Every text cell is neutralised against formula injection. The manifest lists each file of the pack with
its sha256, the input files behind the figures (from ``load_log``), the codebook and code versions, the
Dagster run and the time, so any published number can be traced to the exact file it came from. It names
no path of the host: the pack is copied and mailed, and a path would say whose machine and folders made it;
files are named relative to the survey home.

What does not belong here: the Dagster asset (``assets.publish``), the workbook's layout
(``publish.workbook``) and the brief's (``publish.brief``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePath

import duckdb
import pandas as pd

from publish.safety import neutralise_frame
from publish.workbook import breakdown_table, write_workbook
from schemas.codebook import Codebook
from warehouse.connection import read_sql
from warehouse.reports import headline_trends, loaded_waves

WORKBOOK = "leadership_pack.xlsx"
BRIEF = "brief.html"
HEADLINE_CSV = "headline_indicators.csv"
TRENDS_CSV = "indicator_trends.csv"
MANIFEST = "manifest.json"
# What each file of the pack is, in the order a reader would open them.
PACK_FILES = {
    WORKBOOK: "Excel workbook: contents, headline table and trends with charts, breakdowns by trust type "
              "and by region, notes",
    BRIEF: "one-page brief: findings in sentences, bar chart with intervals and trend lines (self-contained)",
    HEADLINE_CSV: "headline table of the wave: percentage, 95% interval, base, change since the previous wave",
    TRENDS_CSV: "headline indicators across every loaded wave",
    MANIFEST: "sha256 of each file, the input files behind the figures, codebook and code versions, run",
}
PATHS_RELATIVE_TO = "survey home"
ARCHIVE = "archive"  # the home's archive folder (home.settings.SurveyHome.archive_dir)


@dataclass(frozen=True)
class Pack:
    """A written pack: for which survey and wave, its folder and files relative to the home, and the
    headline table it holds."""

    survey_id: str
    wave_id: str
    folder: str  # relative to the home, as every path the pack names
    files: dict[str, str]  # file name -> path relative to the home, in PACK_FILES order
    headline: pd.DataFrame


def headline_table(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str) -> pd.DataFrame:
    rows = con.execute(read_sql("pack_headline"), {"survey_id": codebook.survey_id, "wave_id": wave_id}).df()
    min_base = codebook.reporting.min_base

    def note(row) -> str:
        if row.suppressed:
            return f"suppressed: fewer than {min_base} answered"
        if pd.notna(row.comparable) and not row.comparable:
            return "change not comparable: the question changed"
        return "" if pd.isna(row.note) or row.note == "first wave with data" else row.note

    significant = rows["significant"].map(lambda v: "" if pd.isna(v) else ("yes" if v else "no"))
    return pd.DataFrame({
        "indicator": rows["indicator_id"],
        "label": rows["label"],
        "percentage": rows["pct"].round(1),
        "ci_low": rows["ci_low"].round(1),
        "ci_high": rows["ci_high"].round(1),
        "numerator": rows["numerator"].where(~rows["suppressed"]),
        "base": rows["base"],
        "percentage_trust_weighted": rows["pct_trust_weighted"].round(1),
        "previous_wave": rows["previous_wave_id"],
        "change_points": rows["change"].round(1),
        "significant_at_5pct": significant,
        "note": [note(r) for r in rows.itertuples(index=False)],
    })


def trend_table(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> pd.DataFrame:
    """Headline indicators × waves (percentages; counts for counts)."""
    trends = headline_trends(con, codebook.survey_id)
    waves = loaded_waves(con, codebook.survey_id)
    wide = trends.pivot(index="indicator_id", columns="wave_id", values="value").reindex(columns=waves)
    order = list(dict.fromkeys(trends["indicator_id"]))
    return wide.reindex(order).round(1).reset_index().rename(columns={"indicator_id": "indicator"})


def code_version(project_root: Path) -> dict:
    version = {"package": metadata.version("survey-pipeline")}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        version["git_commit"] = commit
    except (OSError, subprocess.SubprocessError):
        version["git_commit"] = None  # an installed copy outside a git checkout
    return version


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def home_relative(path: str | None, home: Path) -> str | None:
    """A file of the home as the manifest names it: relative to the home, whether ``load_log`` recorded it
    absolute (as older loads did) or relative; None when it cannot be placed in the home."""
    if path is None or path != path:
        return None
    given = PurePath(path)
    if not given.is_absolute():
        return given.as_posix()
    for root in (home, home.resolve()):
        if given.is_relative_to(root):
            return given.relative_to(root).as_posix()
    # Recorded where the home was before it was moved or copied: below archive/ the layout is the same.
    if ARCHIVE in given.parts:
        last = len(given.parts) - 1 - given.parts[::-1].index(ARCHIVE)
        tail = PurePath(*given.parts[last:])
        if (home / tail).is_file():
            return tail.as_posix()
    return None  # never the host's own path


def headline_markdown(headline: pd.DataFrame) -> str:
    """The headline table as a markdown table, for the Dagster UI: label, percentage, interval, base,
    change and note (a count's value in the percentage column's place)."""
    active = {ord(c): "\\" + c for c in "\\`*_[]<>|!~"}  # labels as text, not markdown

    def number(value, digits: int = 1) -> str:
        return "" if pd.isna(value) else f"{value:.{digits}f}"

    lines = ["| indicator | % | 95% interval | base | change (points) | note |", "|---|---:|---|---:|---:|---|"]
    for row in headline.itertuples(index=False):
        share = pd.notna(row.percentage)
        value = number(row.percentage) if share else number(row.numerator, 0)
        interval = f"{number(row.ci_low)} to {number(row.ci_high)}" if share and pd.notna(row.ci_low) else ""
        change = number(row.change_points)
        if change and row.significant_at_5pct == "yes":
            change += " (significant)"
        lines.append(f"| {str(row.label).translate(active)} | {value} | {interval} | {number(row.base, 0)} | "
                     f"{change} | {str(row.note).translate(active)} |")
    return "\n".join(lines)


def write_pack(con: duckdb.DuckDBPyConnection, codebook: Codebook, home: Path, run_id: str,
               project_root: Path) -> Pack:
    """Write the pack for the latest loaded wave into ``<home>/publish/<survey_id>/<wave_id>/``."""
    waves = loaded_waves(con, codebook.survey_id)
    if not waves:
        raise ValueError(f"no wave of {codebook.survey_id} is loaded: nothing to publish")
    wave_id = waves[-1]
    folder = PurePath("publish", codebook.survey_id, wave_id)
    out = home / folder
    out.mkdir(parents=True, exist_ok=True)
    headline, trends = headline_table(con, codebook, wave_id), trend_table(con, codebook)
    files = {HEADLINE_CSV: neutralise_frame(headline), TRENDS_CSV: neutralise_frame(trends)}
    for name, frame in files.items():
        frame.to_csv(out / name, index=False, lineterminator="\n", encoding="utf-8")
    synthetic = any(codebook.wave(w).synthetic for w in waves)
    breakdowns = {d: breakdown_table(con, codebook, wave_id, d) for d in ("trust_type", "region")}
    write_workbook(out / WORKBOOK, codebook, wave_id, headline, trends, breakdowns, synthetic)
    from publish.brief import write_brief  # matplotlib: imported when a pack is written, not with the definitions

    write_brief(out / BRIEF, codebook, wave_id, headline, trends, synthetic)
    inputs = con.execute(read_sql("pack_inputs"), {"survey_id": codebook.survey_id}).df()
    manifest = {
        "survey_id": codebook.survey_id,
        "wave_id": wave_id,
        "waves": waves,
        "synthetic_data": synthetic,
        # Every path below (the pack's folder, the archived inputs) is relative to the survey home.
        "paths_relative_to": PATHS_RELATIVE_TO,
        "folder": folder.as_posix(),
        "files": [{"name": name, "sha256": _sha256(out / name), "bytes": (out / name).stat().st_size}
                  for name in (*files, WORKBOOK, BRIEF)],
        "inputs": [
            {"wave_id": r.wave_id, "file": r.source_file, "sha256": r.sha256,
             "archived_as": home_relative(r.archived_as, home)}
            for r in inputs.itertuples(index=False)
        ],
        "codebook_version": codebook.version,
        "code_version": code_version(project_root),
        "dagster_run_id": run_id,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Pack(codebook.survey_id, wave_id, folder.as_posix(),
                {name: (folder / name).as_posix() for name in PACK_FILES}, headline)
