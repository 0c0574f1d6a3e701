"""The leadership brief: one A4 page printed by a real engine, findings told as the published report tells
them, every figure with its base, no identifier, and no change called a rise or fall unless significant."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from home.settings import PROJECT_ROOT
from publish.findings import Changes, brief_content, question_findings
from publish.pack import BRIEF, BRIEF_PDF, MANIFEST, write_pack
from schemas.codebook_files import load_codebook
from tests.conftest import SURVEY_ID
from warehouse.connection import connect

A4_POINTS = (595.3, 841.9)  # 210 × 297 mm
BANNER = "SYNTHETIC DATA"
# Chromium's own background services (sign-in, time, suggestions) that it contacts whatever the page does.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI"):
        pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
    return found


def _pack_dir(demo_run) -> Path:
    return demo_run.home / "publish" / SURVEY_ID / "2025"


def _pdf_pages(path: Path) -> list[tuple[tuple[float, float], str]]:
    from pypdf import PdfReader

    return [((float(p.mediabox.width), float(p.mediabox.height)), p.extract_text()) for p in PdfReader(path).pages]


def _baselines(path: Path) -> list[list[tuple[float, str]]]:
    """Each printed page's runs of text with the height of their baseline on the page (points, upwards)."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(path).pages:
        runs = []

        def seen(text, cm, tm, font, size, runs=runs):
            if text.strip():  # the text matrix's origin carried through the page's transformation
                runs.append((tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip()))

        page.extract_text(visitor_text=seen)
        pages.append(runs)
    return pages


class _Lines(HTMLParser):
    """The text of each <li> of a page, and all its text outside <style> and <svg>."""

    def __init__(self):
        super().__init__()
        self.items, self.text, self._skip, self._item = [], [], 0, None

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "svg"):
            self._skip += 1
        elif tag == "li":
            self._item = []

    def handle_endtag(self, tag):
        if tag in ("style", "svg"):
            self._skip -= 1
        elif tag == "li" and self._item is not None:
            self.items.append("".join(self._item))
            self._item = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._item is not None:
            self._item.append(data)


def _parsed(page: str) -> _Lines:
    lines = _Lines()
    lines.feed(page)
    return lines


def identifiers_in(text: str, codebook) -> list[str]:
    """Ids as a reader would meet them: dotted (`trust_barriers.funding`), snake_case (`pc_barriers`), or a
    question or indicator id with spaces for its underscores and dots (`trust barriers`)."""
    found = re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)
    found += re.findall(r"\b[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\b", text)
    spaced = {q.id.replace("_", " ") for q in codebook.questions if "_" in q.id}
    spaced |= {f"{q.id} {o.id}".replace("_", " ") for q in codebook.questions for o in q.options}
    lowered = re.sub(r"\s+", " ", text.lower())
    found += [s for s in spaced if re.search(rf"\b{re.escape(s)}\b", lowered)]
    return found


def test_the_pack_prints_its_brief_on_one_a4_page_with_the_banner(demo_run):
    if _chromium() is None:
        pytest.skip("chromium not installed here (CI installs it)")
    folder = _pack_dir(demo_run)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["brief_pdf"]["file"] == BRIEF_PDF and "Chromium" in manifest["brief_pdf"]["engine"]
    assert (manifest["brief_pdf"]["pages"], manifest["brief_pdf"]["print_scale"]) == (1, 1.0)  # fits as it is
    assert BRIEF_PDF in {f["name"] for f in manifest["files"]}
    pages = _pdf_pages(folder / BRIEF_PDF)
    assert len(pages) == 1
    (width, height), text = pages[0]
    assert width == pytest.approx(A4_POINTS[0], abs=1.5) and height == pytest.approx(A4_POINTS[1], abs=1.5)
    assert BANNER in text
    assert "Data drawn from 118 respondents, from 88 trusts" in re.sub(r"\s+", " ", text)


def test_a_brief_longer_than_a_page_has_the_banner_on_every_page(tmp_path):
    """The banner is repeated by the print engine, not written once: a brief of many sections (here every
    section of the bundled survey's content, three times over) prints it at the top of each page."""
    if _chromium() is None:
        pytest.skip("chromium not installed here (CI installs it)")
    from publish.brief import render_brief
    from publish.pdf import print_to_pdf

    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebooks" / f"{SURVEY_ID}.yaml")
    content = brief_content(_rows(codebook), codebook, "2025")
    long = dataclasses.replace(content, sections=content.sections * 3)
    page = tmp_path / "long.html"
    page.write_text(render_brief(codebook, "2025", long, synthetic=True), encoding="utf-8")
    print_to_pdf(page, tmp_path / "long.pdf")
    pages = _pdf_pages(tmp_path / "long.pdf")
    assert len(pages) >= 2
    assert all(BANNER in text for _, text in pages)
    for runs in _baselines(tmp_path / "long.pdf"):  # above each page's content, not printed over its first lines
        banner = [height for height, text in runs if text.startswith(BANNER)]
        assert len(banner) == 1
        assert all(height < banner[0] - 12 for height, text in runs if not text.startswith(BANNER))
    page.write_text(render_brief(codebook, "2025", long, synthetic=False), encoding="utf-8")
    print_to_pdf(page, tmp_path / "real.pdf")
    assert not any(BANNER in text for _, text in _pdf_pages(tmp_path / "real.pdf"))


def test_a_brief_running_over_its_page_is_printed_again_smaller_until_it_fits(tmp_path):
    """Many significant changes lengthen the brief's sentences (a wave of random answers ran to two pages): printed
    at full size here, the bundled survey's content with its first two sections again takes two pages; fitted, it
    is printed again at a smaller scale, on one page, with every section still in it."""
    if _chromium() is None:
        pytest.skip("chromium not installed here (CI installs it)")
    from publish.brief import render_brief
    from publish.pdf import fit_to_one_page, print_to_pdf

    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebooks" / f"{SURVEY_ID}.yaml")
    content = brief_content(_rows(codebook), codebook, "2025")
    long = dataclasses.replace(content, sections=content.sections + content.sections[:2])
    page, pdf = tmp_path / "brief.html", tmp_path / "brief.pdf"

    def write(scale: float) -> None:
        page.write_text(render_brief(codebook, "2025", long, synthetic=True, print_scale=scale), encoding="utf-8")

    write(1.0)
    print_to_pdf(page, pdf)
    assert len(_pdf_pages(pdf)) == 2
    fitted = fit_to_one_page(write, page, pdf)
    pages = _pdf_pages(pdf)
    assert fitted["pages"] == len(pages) == 1 and fitted["print_scale"] < 1
    heading = content.sections[0].heading
    assert re.sub(r"\s+", " ", pages[0][1]).count(heading) == 2 and BANNER in pages[0][1]
    assert "zoom" in page.read_text(encoding="utf-8")  # the page as printed, left beside the PDF


def test_the_brief_names_no_identifier_and_gives_every_figure_its_base(demo_run):
    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebooks" / f"{SURVEY_ID}.yaml")
    page = (_pack_dir(demo_run) / BRIEF).read_text()
    parsed = _parsed(page)
    text = " ".join(parsed.text)
    assert identifiers_in(text, codebook) == []
    charts = re.findall(r"<text[^>]*>([^<]*)</text>", page)  # chart labels are text too
    assert charts and identifiers_in(" ".join(charts), codebook) == []
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        bases = dict(con.execute("SELECT question_id, max(base) FROM headline_indicators WHERE wave_id = '2025' "
                                 "AND indicator_kind = 'share' GROUP BY ALL").fetchall())
    titles = {q.title: q.id for q in codebook.questions}
    assert len(parsed.items) >= 10
    for item in parsed.items:
        assert "%" in item
        base = re.search(r"of the (\d+) who answered", item)
        assert base, item
        title = next(t for t in sorted(titles, key=len, reverse=True) if item.startswith(t))
        assert int(base.group(1)) == bases[titles[title]], item
    if _chromium() is not None:
        (_, printed), = _pdf_pages(_pack_dir(demo_run) / BRIEF_PDF)
        assert identifiers_in(printed, codebook) == []


def test_the_sample_brief_calls_nothing_a_rise_or_fall(demo_run):
    """No change in the sample is significant (checked in the warehouse), so no finding may say one moved;
    the line on how to read the brief may name rises and falls, the findings may not."""
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        (significant,) = con.execute("SELECT count(*) FILTER (WHERE significant) FROM indicator_trends "
                                     "WHERE wave_id = '2025'").fetchone()
    assert significant == 0
    page = (_pack_dir(demo_run) / BRIEF).read_text()
    parsed = _parsed(page)
    changes = re.search(r"<p>(Of the \d+ figures above compared with 2024[^<]*)</p>", page)
    assert changes and "none changed significantly" in changes.group(1)
    for sentence in [*parsed.items, changes.group(1)]:
        for moved in ("rise", "rose", "fall", "fell", "increase", "decrease", "points since", " up ", " down "):
            assert moved not in sentence.lower(), sentence


# --- findings from hand-made figures ------------------------------------------------------------


def _rows(codebook, changes: dict | None = None, bases: dict | None = None) -> pd.DataFrame:
    """Figures of every option and composite of the bundled survey's 2025 questionnaire: option n of a
    question has 10·(n+1) of 100 answering (so the shares rise with the option's position), unless
    ``bases`` gives the question another base; ``changes`` gives an indicator (change, significant)."""
    asked = codebook.for_wave("2025")
    rows = []
    for question in asked.choice_questions:
        base = (bases or {}).get(question.id, 100)
        for n, option in enumerate(question.options):
            rows.append((f"{question.id}.{option.id}", "share", question.id, min(base, 10 * (n + 1)), base))
        for composite in asked.indicators.composites:
            if composite.question == question.id:
                rows.append((composite.id, "share", question.id, base // 2, base))
    frame = pd.DataFrame(rows, columns=["indicator_id", "indicator_kind", "question_id", "numerator", "base"])
    frame["suppressed"] = frame["base"] < codebook.reporting.min_base
    frame["pct"] = (100 * frame["numerator"] / frame["base"]).where(~frame["suppressed"])
    frame["ci_low"], frame["ci_high"] = frame["pct"] - 5, frame["pct"] + 5
    frame["previous_wave_id"], frame["previous_value"] = "2024", frame["pct"]
    frame["change"], frame["comparable"], frame["significant"] = 0.0, True, False
    for indicator, (change, significant) in (changes or {}).items():
        frame.loc[frame["indicator_id"] == indicator, ["change", "significant"]] = [change, significant]
    counts = pd.DataFrame([("respondents", "count", None, 100, None), ("trusts_responding", "count", None, 80, None),
                           ("trust_coverage", "coverage", None, 80, 200)],
                          columns=["indicator_id", "indicator_kind", "question_id", "numerator", "base"])
    counts["pct"] = [None, None, 40.0]
    return pd.concat([frame, counts], ignore_index=True).set_index("indicator_id")


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(PROJECT_ROOT / "schemas" / "codebooks" / f"{SURVEY_ID}.yaml")


def test_a_single_choice_question_is_told_as_its_distribution_in_codebook_order(codebook):
    question = codebook.for_wave("2025").question("trust_approach_stage")
    (finding,) = question_findings(_rows(codebook), codebook.for_wave("2025"), question)
    expected = "; ".join(f"{o.shown_as} {10 * (n + 1)}%" for n, o in enumerate(question.options))
    assert finding.sentence == f"Trust's improvement approach, of the 100 who answered: {expected}."


def test_a_multiple_choice_question_is_told_by_its_top_three(codebook):
    asked = codebook.for_wave("2025")
    question = asked.question("trust_barriers")
    (finding,) = question_findings(_rows(codebook), asked, question)
    last_three = list(question.options)[::-1][:3]  # the largest shares: the last options, by construction
    shares = [10 * (len(question.options) - n) for n in range(3)]
    told = "; ".join(f"{o.shown_as} {s}%" for o, s in zip(last_three, shares))
    assert finding.sentence == f"Barriers to improvement at the trust, top 3 of the 100 who answered: {told}."


def test_a_composite_has_its_own_line(codebook):
    asked = codebook.for_wave("2025")
    composite, distribution = question_findings(_rows(codebook), asked, asked.question("trust_impact_alignment"))
    assert composite.sentence == "Trust's alignment with NHS IMPACT: Fully or mostly aligned 50% of the 100 who answered."
    assert distribution.sentence.startswith("Trust's alignment with NHS IMPACT, of the 100 who answered: Fully aligned 10%")


def _figures_told(codebook, wave_id: str) -> int:
    """How many figures the brief's sentences give, from the codebook alone (the issue's rule: every
    option of a single-choice question and its composites, the top three of a multiple-choice question)."""
    asked = codebook.for_wave(wave_id)
    composites = {c.question for c in asked.indicators.composites}
    return sum(len(q.options) + (q.id in composites) if q.type == "single" else min(3, len(q.options))
               for q in asked.choice_questions)


def test_a_change_is_told_only_where_significant_and_counted_once(codebook):
    rows = _rows(codebook, changes={"trust_barriers.other": (12.4, True),  # top of its question: told
                                    "trust_barriers.financial_pressures": (-9.6, True),  # second: told
                                    "trust_barriers.data_systems": (15.0, False)})  # third, not significant
    # The largest share of its question (the last option, by construction): told, and not comparable.
    rows.loc["trust_support_needs.other", ["comparable", "significant", "change"]] = [False, None, None]
    content = brief_content(rows, codebook, "2025")
    barriers = next(f.sentence for s in content.sections for f in s.findings if f.sentence.startswith("Barriers"))
    assert "Other 80% (up 12 points since 2024, a significant change)" in barriers
    assert "Financial pressures 70% (down 10 points since 2024, a significant change)" in barriers
    assert "Data and IT systems 60%;" not in barriers and barriers.endswith("Data and IT systems 60%.")
    told = _figures_told(codebook, "2025")
    assert told == 6 + 6 + 3 + 3 + 3 + 5 + 6 + 3 + 3 + 3  # the bundled 2025 questionnaire, counted by hand
    assert content.changes == Changes(("2024",), told - 1, 2, 1)
    assert content.changes.sentence() == (
        f"Of the {told - 1} figures above compared with 2024, 2 changed significantly, as marked; other "
        "differences are within what chance alone would give and are not reported; 1 could not be compared "
        "because the question changed.")


def test_the_changes_name_the_wave_each_figure_was_compared_with(codebook):
    """A wave compared with an earlier one than the wave before (2024 not loaded, say) names that wave."""
    rows = _rows(codebook, changes={"trust_barriers.other": (12.4, True)})
    rows["previous_wave_id"] = "2023"
    content = brief_content(rows, codebook, "2025")
    assert content.changes.previous_waves == ("2023",)
    assert content.changes.sentence().startswith("Of the ")
    assert "compared with 2023, 1 changed significantly" in content.changes.sentence()
    barriers = next(f.sentence for s in content.sections for f in s.findings if f.sentence.startswith("Barriers"))
    assert "Other 80% (up 12 points since 2023, a significant change)" in barriers


def test_a_significant_change_under_half_a_point_is_not_told_as_zero(codebook):
    rows = _rows(codebook, changes={"trust_barriers.other": (0.3, True), "trust_barriers.financial_pressures": (-1.2, True)})
    sentence = next(f.sentence for s in brief_content(rows, codebook, "2025").sections for f in s.findings
                    if f.sentence.startswith("Barriers"))
    assert "Other 80% (up less than 1 point since 2024" in sentence and "(down 1 point since 2024" in sentence


def test_a_question_too_few_answered_shows_no_figure(codebook):
    asked = codebook.for_wave("2025")
    rows = _rows(codebook, bases={"pc_barriers": 7})
    (finding,) = question_findings(rows, asked, asked.question("pc_barriers"))
    assert finding.figures == ()
    assert finding.sentence == ("Barriers to a shared approach in the provider collaborative: fewer than 10 answered "
                                "(7), so no figure is shown.")
    section = next(s for s in brief_content(rows, codebook, "2025").sections
                   if s.heading == "Common barriers across provider collaboratives")
    assert section.chart_title == "Where the provider collaborative would value support"  # the next question


def test_the_first_wave_has_no_changes_and_coverage_closes_the_brief(codebook):
    rows = _rows(codebook)
    rows["previous_wave_id"], rows["significant"] = None, None
    first = brief_content(rows, codebook, "2023")  # the first wave the codebook declares
    assert first.changes.sentence() == "This is the survey's first wave, so there are no changes to report."
    assert first.coverage == "Data drawn from 100 respondents, from 80 trusts (40% of trusts in England)."
    later = brief_content(rows, codebook, "2025")  # a later wave with nothing loaded before it
    assert later.changes.sentence() == "No figure above could be compared with an earlier wave."


def test_the_how_to_read_line_gives_the_codebooks_levels(codebook, tmp_path):
    raw = yaml.safe_load((PROJECT_ROOT / "schemas" / "codebooks" / f"{SURVEY_ID}.yaml").read_text())
    raw["reporting"].update(confidence_level=0.9, significance_level=0.01)
    path = tmp_path / "levels.yaml"
    path.write_text(yaml.safe_dump(raw))
    content = brief_content(_rows(codebook), load_codebook(path), "2025")
    assert "the 90% interval" in content.how_to_read and "(1% level)" in content.how_to_read
    assert "95%" not in content.how_to_read


def test_without_a_pdf_engine_the_pack_says_so_and_is_written(demo_run, tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(demo_run.home, home, ignore=shutil.ignore_patterns("dagster"))
    codebook = load_codebook(PROJECT_ROOT / "schemas" / "codebooks" / f"{SURVEY_ID}.yaml")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))  # no Chromium on this PATH
    with connect(home / "working" / "improvement-journey" / "survey.duckdb") as con:
        again = write_pack(con, codebook, home, "test-run", PROJECT_ROOT)  # the demo's 2025, which has a PDF
        pack = write_pack(con, codebook, home, "test-run", PROJECT_ROOT, wave_id="2024")
    assert (demo_run.home / again.folder / BRIEF_PDF).is_file()
    assert not (home / again.folder / BRIEF_PDF).exists()  # the earlier run's PDF is not left beside the new brief
    folder = home / pack.folder
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["wave_id"] == "2024" and manifest["waves"] == ["2023", "2024"]
    assert manifest["brief_pdf"]["file"] is None and "no PDF engine" in manifest["brief_pdf"]["why_not"]
    assert not (folder / BRIEF_PDF).exists() and BRIEF_PDF not in pack.files
    assert (folder / BRIEF).is_file()
    assert {r["wave_id"] for r in manifest["inputs"]} == {"2023", "2024"}


def test_the_brief_renders_offline_in_headless_chromium(demo_run, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium not installed here (CI installs it)")
    brief = _pack_dir(demo_run) / BRIEF
    page = brief.read_text()
    for external in ("src=\"http", "href=\"http", "url(http", "@import", "<script", "<link"):
        assert external not in page  # nothing to fetch: charts are inline SVG, styles inline
    netlog = tmp_path / "netlog.json"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={netlog}",
         f"--print-to-pdf={tmp_path / 'brief.pdf'}", "--no-pdf-header-footer", brief.as_uri()],
        check=True, capture_output=True, timeout=120)
    urls = set(re.findall(r'"url":"([^"]+)"', netlog.read_text()))
    page_requests = {u for u in urls if not u.startswith("file:") and not any(h in u for h in BROWSER_HOSTS)}
    assert page_requests == set()
    assert (tmp_path / "brief.pdf").read_bytes().startswith(b"%PDF")


def test_survey_pack_writes_any_loaded_waves_pack_and_refuses_one_not_loaded(demo_run, tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import app

    home = tmp_path / "home"
    shutil.copytree(demo_run.home, home, ignore=shutil.ignore_patterns("dagster", "publish"))
    result = CliRunner().invoke(app, ["pack", SURVEY_ID, "2023", "--home", str(home)], terminal_width=200)
    assert result.exit_code == 0, result.output
    folder = home / "publish" / SURVEY_ID / "2023"
    assert f"Pack of {SURVEY_ID}/2023 written to {folder}" in result.output
    # The suite turns printing off (conftest.py): the command says there is no PDF, and why.
    assert "No brief.pdf: not printed: printing the brief is turned off (SURVEY_BRIEF_PDF=false)" in result.output
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["wave_id"] == "2023" and manifest["waves"] == ["2023"]
    text = " ".join(_parsed((folder / BRIEF).read_text()).text)
    assert "This is the survey's first wave, so there are no changes to report." in text
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        respondents, trusts = con.execute("SELECT count(*), count(DISTINCT trust_code) FROM respondents "
                                          "WHERE wave_id = '2023'").fetchone()
    assert f"Data drawn from {respondents} respondents, from {trusts} trusts" in text
    assert not (home / "publish" / SURVEY_ID / "2025").exists()  # only the wave asked for

    refused = CliRunner().invoke(app, ["pack", SURVEY_ID, "2031", "--home", str(home)], terminal_width=200)
    assert refused.exit_code == 1
    assert refused.output.strip() == (f"REFUSED: wave 2031 of {SURVEY_ID} is not loaded (loaded: 2023, 2024, 2025)")
    unknown = CliRunner().invoke(app, ["pack", "no-such-survey", "2023", "--home", str(home)], terminal_width=200)
    assert unknown.exit_code == 1 and unknown.output.startswith("REFUSED: no codebook for survey 'no-such-survey'")
