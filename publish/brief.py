"""The pack's one-page HTML brief: findings as sentences generated from the data, a bar chart with
95% interval whiskers, and a small trend line per indicator.

The file stands alone: charts are inline SVG drawn by matplotlib, styles are inline, and nothing is
fetched when it is opened or printed. Chart text stays text in the reader's own sans-serif font, so
screen readers and search can read it. A change is called a rise or a fall only
when the two-proportion test says it is significant; otherwise the sentence says the difference is not
statistically significant.
"""

from __future__ import annotations

import html
import io

import matplotlib

matplotlib.use("Agg")  # no display: render to files only
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from schemas.codebook import Codebook  # noqa: E402

# Text as text rather than glyph outlines: readable by assistive technology, a third of the size, and
# drawn in a third of the time. matplotlib names a generic sans-serif font last, so any viewer has one.
plt.rcParams["svg.fonttype"] = "none"


def finding(row, wave_id: str) -> str:
    """One sentence for one headline share of the latest wave."""
    label = row.label
    if pd.isna(row.percentage):
        return f"{label}: too few respondents answered to report a percentage."
    sentence = f"{row.percentage:.0f}% of respondents ({int(row.numerator)} of {int(row.base)}): {label}."
    if pd.isna(row.previous_wave) or row.previous_wave == "":
        return sentence
    previous = row.percentage - row.change_points if pd.notna(row.change_points) else None
    if row.note.startswith("change not comparable"):
        return f"{sentence} Not comparable with {row.previous_wave}: the question changed."
    if previous is None:
        return sentence
    if row.significant_at_5pct == "yes":
        direction = "a statistically significant rise" if row.change_points > 0 else "a statistically significant fall"
    else:
        direction = "a difference that is not statistically significant"
    return f"{sentence} {previous:.0f}% said so in {row.previous_wave}, {direction}."


def _svg(figure, tight: bool = True) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight" if tight else None)
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def bar_chart(headline: pd.DataFrame) -> str:
    shares = headline[headline["percentage"].notna() & headline["indicator"].str.contains(".", regex=False)]
    figure, axes = plt.subplots(figsize=(9, 0.32 * len(shares) + 1))
    y = range(len(shares))
    axes.barh(list(y), shares["percentage"], color="#005EB8")
    axes.errorbar(shares["percentage"], list(y), fmt="none", ecolor="#231f20", capsize=3,
                  xerr=[shares["percentage"] - shares["ci_low"], shares["ci_high"] - shares["percentage"]])
    axes.set_yticks(list(y), [i.replace("_", " ") for i in shares["indicator"]], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of respondents (95% interval)")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def trend_lines(trends: pd.DataFrame) -> str:
    waves = [c for c in trends.columns if c != "indicator"]
    rows = trends[~trends["indicator"].isin(["respondents", "trusts_responding"])]
    columns = 4
    height = 1.3 * -(-len(rows) // columns)  # inches: 1.3 a row of charts
    figure, grid = plt.subplots(-(-len(rows) // columns), columns, figsize=(10, height), squeeze=False)
    for axes in grid.flat:
        axes.set_visible(False)
    for axes, row in zip(grid.flat, rows.itertuples(index=False)):
        axes.set_visible(True)
        axes.plot(waves, list(row[1:]), marker="o", color="#005EB8", linewidth=1.5)
        axes.set_ylim(0, 100)
        axes.set_yticks([0, 50, 100])  # fixed ticks: the automatic ones cost most of the drawing time
        axes.set_title(row.indicator.replace("_", " "), fontsize=6)
        axes.tick_params(labelsize=6)
        axes.spines[["top", "right"]].set_visible(False)
    # Fixed margins rather than tight_layout and a tight bounding box, which lay the grid out twice more
    # (1 s instead of 4 s for the bundled survey's 27 indicators).
    figure.subplots_adjust(left=0.04, right=0.99, bottom=0.3 / height, top=1 - 0.25 / height, wspace=0.25, hspace=0.9)
    return _svg(figure, tight=False)


def across_waves(trends: pd.DataFrame) -> str:
    """The trend charts, or why there are none: a single wave has no trend to draw."""
    if len([c for c in trends.columns if c != "indicator"]) < 2:
        return "<p>Only one wave so far: trends start with the second.</p>"
    return f"<figure>{trend_lines(trends)}</figure>"


STYLE = """
body { font-family: Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 60em; color: #231f20; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
.warning { background: #fde8e8; border-left: 6px solid #c00000; padding: .6em 1em; font-weight: bold; }
li { margin: .3em 0; } svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; font-size: 10pt; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
"""


def write_brief(path, codebook: Codebook, wave_id: str, headline: pd.DataFrame, trends: pd.DataFrame,
                synthetic: bool) -> None:
    shares = headline[headline["indicator"].str.contains(".", regex=False)]
    counts = headline.set_index("indicator")
    findings = "\n".join(f"<li>{html.escape(finding(r, wave_id))}</li>" for r in shares.itertuples(index=False))
    respondents = counts.loc["respondents", "numerator"] if "respondents" in counts.index else None
    trusts = counts.loc["trusts_responding", "numerator"] if "trusts_responding" in counts.index else None
    warning = ('<p class="warning">SYNTHETIC DATA: generated to reproduce published aggregates; '
               "these are not real responses.</p>") if synthetic else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(codebook.title)}: wave {html.escape(wave_id)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{html.escape(codebook.title)}: wave {html.escape(wave_id)}</h1>
{warning}
<p>{html.escape(codebook.publisher)}. {'' if respondents is None else f'{int(respondents)} respondents'}{'' if trusts is None else f' from {int(trusts)} trusts'}.
Percentages are of those who answered each question; changes are called rises or falls only when significant at 5%.</p>
<h2>Key findings</h2>
<ul>
{findings}
</ul>
<h2>Headline indicators with 95% intervals</h2>
<figure>{bar_chart(headline)}</figure>
<h2>Across waves</h2>
{across_waves(trends)}
<p><small>Codebook version {html.escape(codebook.version)}. Suppression: percentages on fewer than
{codebook.reporting.min_base} respondents are not shown.</small></p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
