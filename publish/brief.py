"""The pack's one-page brief (``brief.html``): the findings of ``publish.findings`` under the codebook's
report sections, a small chart per section, and a page laid out for A4.

The file stands alone: charts are inline SVG drawn by matplotlib, styles are inline, and nothing is
fetched when it is opened or printed. Chart text stays text in the reader's own sans-serif font, so
screen readers and search can read it. Printed, it is one portrait A4 page for the bundled survey, with
the synthetic-data banner repeated at the top of every printed page when the data are synthetic. The
banner is the header of a layout table, which print engines repeat on each page above the page's content;
a fixed element is repeated too, but over the first lines of every page after the first.

What does not belong here: what the findings say (``publish.findings``), printing it to PDF
(``publish.pdf``).
"""

from __future__ import annotations

import html
import io

import matplotlib

# Figures made directly, not through pyplot: no display or backend to choose, no global figure to close.
from matplotlib.figure import Figure as ChartFigure

from publish import SYNTHETIC_WARNING
from publish.findings import BriefContent, Figure, Section
from schemas.codebook import Codebook

# Text as text rather than glyph outlines: readable by assistive technology, a third of the size, and
# drawn in a third of the time. matplotlib names a generic sans-serif font last, so any viewer has one.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["text.parse_math"] = False  # a "$" in a label is a dollar sign, not the start of mathematics
NHS_BLUE, TEXT = "#005EB8", "#231f20"
SYNTHETIC_BANNER = SYNTHETIC_WARNING
BAR_INCHES = 0.17  # the height of one bar's row: a section's chart fits beside its two or three lines


def section_chart(section: Section, confidence: float) -> str:
    """The section's chart: its first question's options, largest first, 95% intervals as whiskers, each bar
    labelled with its percentage."""
    figures: tuple[Figure, ...] = section.chart
    figure = ChartFigure(figsize=(3.5, BAR_INCHES * len(figures) + 0.32))
    axes = figure.subplots()
    y = list(range(len(figures)))
    pcts = [f.pct for f in figures]
    axes.barh(y, pcts, color=NHS_BLUE, height=0.7)
    axes.errorbar(pcts, y, fmt="none", ecolor=TEXT, elinewidth=0.8, capsize=1.5,
                  xerr=[[p - f.ci_low for p, f in zip(pcts, figures)], [f.ci_high - p for p, f in zip(pcts, figures)]])
    for position, f in zip(y, figures):
        axes.text(f.ci_high + 1.5, position, f"{f.pct:.0f}%", va="center", fontsize=6.5, color=TEXT)
    axes.set_yticks(y, [f.label for f in figures], fontsize=6.5)
    axes.invert_yaxis()
    axes.set_xlim(0, 108)
    axes.set_xticks([0, 50, 100], ["0%", "50%", "100%"], fontsize=6)
    axes.tick_params(length=2, pad=1.5)
    axes.spines[["top", "right"]].set_visible(False)
    # Fixed margins rather than a tight bounding box, which lays the figure out again: the labels get
    # the left 45%.
    height = BAR_INCHES * len(figures) + 0.32
    figure.subplots_adjust(left=0.45, right=0.98, bottom=0.2 / height, top=1 - 0.04 / height)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    text = buffer.getvalue()
    svg = text[text.index("<svg"):]
    title = html.escape(f"{section.chart_title}: % of those who answered, with {confidence:.0%} intervals")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{title}" ', 1)


STYLE = """
@page { size: A4 portrait; margin: 11mm 13mm 10mm; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: #231f20; margin: 1.5em auto; max-width: 46em;
       font-size: 10.5pt; line-height: 1.3; }
.banner { background: #fde8e8; border-left: 5px solid #c00000; color: #8a0000; font-weight: bold;
          padding: .3em .7em; font-size: 9pt; }
h1 { font-size: 15pt; margin: .5em 0 .1em; color: #005EB8; }
.meta { margin: 0 0 .4em; color: #425563; font-size: 9pt; }
h2 { font-size: 11pt; margin: .55em 0 .15em; border-bottom: 1px solid #d8dde0; padding-bottom: .1em;
     break-after: avoid; }
.frame { border-collapse: collapse; width: 100%; } .frame > * > tr > td { padding: 0; }
.frame thead .banner { margin-bottom: .5em; }
.section { display: grid; grid-template-columns: 1fr 3.5in; gap: .8em; align-items: start; }
.section ul { margin: 0; padding-left: 1.1em; } .section li { margin: 0 0 .2em; }
figure { margin: 0; } svg { max-width: 100%; height: auto; display: block; }
.closing p { margin: .35em 0; font-size: 9pt; } .closing .coverage { font-weight: bold; font-size: 10pt; }
@media print {
  body { margin: 0; max-width: none; font-size: 8.6pt; line-height: 1.25; }
  h2, .section { break-inside: avoid; }
}
"""


def _day(date) -> str:
    return f"{date.day} {date:%B %Y}"  # "1 September 2025", as a person writes it


def render_brief(codebook: Codebook, wave_id: str, content: BriefContent, synthetic: bool,
                 print_scale: float = 1.0) -> str:
    """The brief's HTML page; printed at ``print_scale`` of its size (on screen it is as it is)."""
    wave = codebook.wave(wave_id)
    title = f"{codebook.title}: wave {wave_id}"
    banner = (f'<thead><tr><td><div class="banner" role="note">{html.escape(SYNTHETIC_BANNER)}</div></td></tr></thead>'
              if synthetic else "")
    sections = []
    for section in content.sections:
        lines = "\n".join(f"<li>{html.escape(f.sentence)}</li>" for f in section.findings)
        chart = (f"<figure>{section_chart(section, codebook.reporting.confidence_level)}</figure>" if section.chart
                 else "<div></div>")
        sections.append(f'<h2>{html.escape(section.heading)}</h2>\n<div class="section"><ul>\n{lines}\n</ul>{chart}</div>')
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{STYLE}{f"@media print {{ body {{ zoom: {print_scale:g}; }} }}" if print_scale != 1 else ""}</style></head>
<body>
<table class="frame" role="presentation">{banner}<tbody><tr><td>
<div class="page">
<h1>{html.escape(title)}</h1>
<p class="meta">{html.escape(codebook.publisher)}. Fieldwork {_day(wave.fieldwork_start)} to {_day(wave.fieldwork_end)}.</p>
{body}
<div class="closing">
<p>{html.escape(content.changes.sentence())}</p>
<p>{html.escape(content.how_to_read)} {html.escape(content.suppressed_note)}</p>
<p class="coverage">{html.escape(content.coverage)}</p>
</div>
</div>
</td></tr></tbody></table>
</body></html>
"""


def write_brief(path, content: BriefContent, codebook: Codebook, wave_id: str, synthetic: bool,
                print_scale: float = 1.0) -> None:
    path.write_text(render_brief(codebook, wave_id, content, synthetic, print_scale), encoding="utf-8")
