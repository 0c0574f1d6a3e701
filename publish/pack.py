"""The leadership pack of a survey's wave: the brief (HTML and PDF), an Excel workbook, CSV files of the
headline and trend tables, a README and a manifest.

Written to ``<home>/publish/<survey_id>/<wave_id>/`` for the latest loaded wave (or any loaded wave, on
request: ``survey pack``), with the trend across the waves up to it. Only aggregates leave the warehouse:
no respondent-level row and no free text is ever read here. Every text cell is neutralised against
formula injection. The manifest lists each file of the pack with its sha256, the input files behind the
figures (from ``load_log``), the codebook and code versions, the Dagster run and the time, so any
published number can be traced to the exact file it came from. It names no path of the host: the pack is
copied and mailed, and a path would say whose machine and folders made it; files are named relative to
the survey home.

What does not belong here: the Dagster asset (``assets.publish``), the tables read from the warehouse
(``publish.tables``), the workbook's layout (``publish.workbook``), the brief's words
(``publish.findings``), its page (``publish.brief``) and its printing (``publish.pdf``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePath

import duckdb
import pandas as pd

from publish import SYNTHETIC_WARNING
from publish.findings import brief_content, brief_figures
from publish.safety import neutralise_frame
from publish.tables import (benchmark_table, breakdown_table, headline_csv, headline_table, theme_table, trend_table,
                            trends_csv)
from publish.weighting_notes import weighting_table
from publish.workbook import write_workbook
from schemas.codebook import Codebook
from warehouse.connection import read_sql
from warehouse.reports import loaded_waves

WORKBOOK = "leadership_pack.xlsx"
BRIEF = "brief.html"
BRIEF_PDF = "brief.pdf"
TRUST_PAGES = "trust_pages.html"
TRUST_PAGES_PDF = "trust_pages.pdf"
README = "README.txt"
HEADLINE_CSV = "headline_indicators.csv"
TRENDS_CSV = "indicator_trends.csv"
MANIFEST = "manifest.json"
# What each file of the pack is, in the order a reader would open them.
PACK_FILES = {
    BRIEF_PDF: "the one-page brief printed to A4 (by headless Chromium; absent where no engine is installed)",
    BRIEF: "the one-page brief: findings by section, each figure with its base, a chart per section "
           "(self-contained HTML)",
    TRUST_PAGES_PDF: "your trust against similar trusts: one printed A4 page per trust with enough respondents "
                     "(absent where no trust has enough, or no engine is installed)",
    TRUST_PAGES: "the same pages as self-contained HTML",
    WORKBOOK: "Excel workbook: contents, headline table and trends with a chart per section, a sheet per "
              "breakdown dimension (trust type, region, respondent fields), each trust against similar trusts, "
              "notes (with the weighting, where the survey is weighted); every sheet prints on whole landscape pages",
    HEADLINE_CSV: "headline table of the wave: label, percentage, 95% interval, base, change since the previous "
                  "wave, whether synthetic",
    TRENDS_CSV: "headline indicators in each wave up to this one, a row per indicator and wave: label, percentage, "
                "base, change, comparable, significant, whether synthetic",
    README: "what each file is, the wave, and whether the data are synthetic",
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
    change and note (a count's value, and its change in number, in the percentage's place)."""
    active = {ord(c): "\\" + c for c in "\\`*_[]<>|!~"}  # labels as text, not markdown

    def number(value, digits: int = 1) -> str:
        return "" if pd.isna(value) else f"{value:.{digits}f}"

    lines = ["| indicator | % | 95% interval | base | change (points; counts: number) | note |",
             "|---|---:|---|---:|---:|---|"]
    for row in headline.itertuples(index=False):
        count = row.kind == "count"
        value = number(row.numerator, 0) if count else number(row.percentage)
        interval = f"{number(row.ci_low)} to {number(row.ci_high)}" if pd.notna(row.ci_low) else ""
        change = number(row.change_count, 0) if count else number(row.change_points)
        if change and row.significant_at_5pct == "yes":
            change += " (significant)"
        lines.append(f"| {str(row.label).translate(active)} | {value} | {interval} | {number(row.base, 0)} | "
                     f"{change} | {str(row.note).translate(active)} |")
    return "\n".join(lines)


def write_pack(con: duckdb.DuckDBPyConnection, codebook: Codebook, home: Path, run_id: str,
               project_root: Path, wave_id: str | None = None, print_pdf: bool = True) -> Pack:
    """Write the pack of one loaded wave (default: the latest) into ``<home>/publish/<survey_id>/<wave_id>/``,
    with the trends of the waves up to it; ``print_pdf`` false leaves the brief unprinted (the manifest says
    so)."""
    loaded = loaded_waves(con, codebook.survey_id)
    if not loaded:
        raise ValueError(f"no wave of {codebook.survey_id} is loaded: nothing to publish")
    wave_id = wave_id or loaded[-1]
    if wave_id not in loaded:
        raise ValueError(f"wave {wave_id} of {codebook.survey_id} is not loaded (loaded: {', '.join(loaded)})")
    waves = loaded[: loaded.index(wave_id) + 1]
    folder = PurePath("publish", codebook.survey_id, wave_id)
    out = home / folder
    out.mkdir(parents=True, exist_ok=True)
    # An earlier run's PDFs and manifest never stay beside this run's files, should this run stop half way; nor
    # an earlier run's trust pages where no trust qualifies now.
    for earlier in (BRIEF_PDF, MANIFEST, TRUST_PAGES, TRUST_PAGES_PDF):
        (out / earlier).unlink(missing_ok=True)
    synthetic = any(codebook.wave(w).synthetic for w in waves)
    # matplotlib and the PDF engine: imported when a pack is written, not with the definitions
    from publish.brief import write_brief
    from publish.pdf import BriefPrint, PdfNotMade, fit_to_one_page
    from publish.trust_pages import render_trust_pages

    # The wave's figures as the brief tells them, read once: for the brief (again at each print scale tried) and the
    # workbook's theme charts.
    figures = brief_figures(con, codebook.survey_id, wave_id)
    content = brief_content(figures, codebook, wave_id)
    write_brief(out / BRIEF, content, codebook, wave_id, synthetic)
    benchmarks = benchmark_table(con, codebook, wave_id) if codebook.respondent.trust is not None else None
    paged = benchmarks is not None and len(benchmarks[0]) > 0
    if paged:
        (out / TRUST_PAGES).write_text(render_trust_pages(codebook, wave_id, benchmarks[0], synthetic), encoding="utf-8")
    printed = {BRIEF_PDF: BRIEF, **({TRUST_PAGES_PDF: TRUST_PAGES} if paged else {})}
    written, pdfs = [], {}
    with ExitStack() as stack:
        # Chromium prints while the workbook and the CSVs are written (its start-up is most of it).
        prints = {pdf: stack.enter_context(BriefPrint(out / page, out / pdf)) for pdf, page in printed.items()
                  } if print_pdf else {}
        headline, trends = headline_table(con, codebook, wave_id), trend_table(con, codebook, waves)
        # Each CSV row says whether its own wave is synthetic: a file forwarded alone still says so.
        files = {HEADLINE_CSV: neutralise_frame(headline_csv(headline, codebook.wave(wave_id).synthetic)),
                 TRENDS_CSV: neutralise_frame(trends_csv(trends, trends["wave"].map(
                     lambda w: codebook.wave(str(w)).synthetic)))}
        for name, frame in files.items():
            frame.to_csv(out / name, index=False, lineterminator="\n", encoding="utf-8")
        breakdowns = {d: breakdown_table(con, codebook, wave_id, d) for d in codebook.reporting.breakdowns}
        write_workbook(out / WORKBOOK, codebook, wave_id, headline, trends, breakdowns, synthetic, benchmarks,
                       weighting_table(con, codebook, waves), theme_table(figures, codebook))
        written = [*files, WORKBOOK, BRIEF, *([TRUST_PAGES] if paged else [])]
        for pdf in printed:
            try:
                if pdf not in prints:
                    raise PdfNotMade(f"not printed: printing {'the brief' if pdf == BRIEF_PDF else 'the trust pages'} "
                                     "is turned off (SURVEY_BRIEF_PDF=false)")
                pdfs[pdf] = {"file": pdf, "engine": prints[pdf].finish()}
                if pdf == BRIEF_PDF:
                    pdfs[pdf] |= fit_to_one_page(lambda scale: write_brief(out / BRIEF, content, codebook, wave_id,
                                                                           synthetic, scale), out / BRIEF, out / pdf)
                written.append(pdf)
            except PdfNotMade as exc:
                pdfs[pdf] = {"file": None, "engine": None, "why_not": str(exc)}
    brief_pdf = pdfs[BRIEF_PDF]
    (out / README).write_text(pack_readme(codebook, wave_id, waves, synthetic, written), encoding="utf-8")
    written.append(README)
    inputs = con.execute(read_sql("pack_inputs"), {"survey_id": codebook.survey_id}).df()
    inputs = inputs[inputs["wave_id"].isin(waves)]
    manifest = {
        "survey_id": codebook.survey_id,
        "wave_id": wave_id,
        "waves": waves,
        "synthetic_data": synthetic,
        # Every path below (the pack's folder, the archived inputs) is relative to the survey home.
        "paths_relative_to": PATHS_RELATIVE_TO,
        "folder": folder.as_posix(),
        "files": [{"name": name, "sha256": _sha256(out / name), "bytes": (out / name).stat().st_size}
                  for name in written],
        "brief_pdf": brief_pdf,
        "trust_pages_pdf": pdfs.get(TRUST_PAGES_PDF, {"file": None, "engine": None, "why_not": benchmarks[1] if
                                                      benchmarks is not None else "the survey asks no trust"}),
        "inputs": [
            {"wave_id": r.wave_id, "file": r.source_file, "kind": r.kind, "sha256": r.sha256,
             "archived_as": home_relative(r.archived_as, home)}
            for r in inputs.itertuples(index=False)
        ],
        "codebook_version": codebook.version,
        "code_version": code_version(project_root),
        "dagster_run_id": run_id,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    written.append(MANIFEST)
    return Pack(codebook.survey_id, wave_id, folder.as_posix(),
                {name: (folder / name).as_posix() for name in PACK_FILES if name in written}, headline)


def pack_readme(codebook: Codebook, wave_id: str, waves: list[str], synthetic: bool, files: list[str]) -> str:
    """The pack's README.txt: what it is, for which wave, whether the data are synthetic, and each file."""
    lines = [f"{codebook.title}", f"Leadership pack for wave {wave_id} ({codebook.publisher}).",
             f"Trends cover the waves {', '.join(waves)}.", ""]
    if synthetic:
        lines += [SYNTHETIC_WARNING, ""]
    else:
        lines += ["The data are real survey responses (aggregates only; no respondent-level data).", ""]
    listed = {*files, README, MANIFEST}
    lines += ["Files:"] + [f"- {name}: {what}" for name, what in PACK_FILES.items() if name in listed]
    return "\n".join(lines) + "\n"
