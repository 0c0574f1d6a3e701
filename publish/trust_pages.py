"""The printable pages of "your trust against similar trusts" (``trust_pages.html``, printed to
``trust_pages.pdf``): one A4 page per trust with enough respondents to be benchmarked, as the NHS Staff Survey's
benchmark reports set each organisation beside its comparator group.

Each page lists the trust's headline shares and means (weighted where the survey is, its base beside), the lowest,
median and highest of the similar trusts (the trusts of its type that qualify), a small line drawing showing where
the trust sits among them, and whether it is above or below the rest of England. The file stands alone (inline
SVG and styles); the synthetic-data banner opens every page when the data are synthetic.

What does not belong here: the figures (``warehouse.benchmarks``, ``publish.tables.benchmark_table``), printing
(``publish.pdf``).
"""

from __future__ import annotations

import html

import pandas as pd

from publish import SYNTHETIC_WARNING
from publish.tables import MEASURED, short_labels
from schemas.codebook import Codebook

COMPARED = {"above": "Above", "below": "Below", "not significantly different": "Similar"}
SCORE_SUFFIX = ".score"  # a score out of 10 (an item's or a theme's)


def _number(value, kind: str) -> str:
    if pd.isna(value):
        return ""
    return f"{value:.1f}" if kind in MEASURED else f"{value:.0f}%"


def _scale(row) -> tuple[float, float]:
    """The drawing's ends: 0 to 100 for a share, 0 to 10 for a score, otherwise the row's own range widened."""
    if row.indicator_kind not in MEASURED:
        return 0.0, 100.0
    if row.indicator_id.endswith(SCORE_SUFFIX):
        return 0.0, 10.0
    low, high = min(row.group_lowest, row.value), max(row.group_highest, row.value)
    pad = (high - low) * 0.1 or 1.0
    return low - pad, high + pad


def range_drawing(row) -> str:
    """The similar trusts' range as a grey bar with a tick at their median, and the trust as a blue dot."""
    low, high = _scale(row)
    width, height = 150, 14

    def x(value: float) -> float:
        return 4 + (width - 8) * (float(value) - low) / (high - low)

    label = (f"Similar trusts from {_number(row.group_lowest, row.indicator_kind)} to "
             f"{_number(row.group_highest, row.indicator_kind)}, median {_number(row.group_median, row.indicator_kind)}; "
             f"this trust {_number(row.value, row.indicator_kind)}")
    return (f'<svg role="img" aria-label="{html.escape(label)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">'
            f'<line x1="4" y1="7" x2="{width - 4}" y2="7" stroke="#d8dde0" stroke-width="1"/>'
            f'<rect x="{x(row.group_lowest):.1f}" y="4" width="{max(x(row.group_highest) - x(row.group_lowest), 1):.1f}" '
            f'height="6" fill="#aeb7bd"/>'
            f'<line x1="{x(row.group_median):.1f}" y1="2" x2="{x(row.group_median):.1f}" y2="12" stroke="#231f20" '
            f'stroke-width="1.2"/><circle cx="{x(row.value):.1f}" cy="7" r="3.6" fill="#005EB8"/></svg>')


def _page(codebook: Codebook, wave_id: str, rows: pd.DataFrame, synthetic: bool, weighted: bool) -> str:
    first = rows.iloc[0]
    banner = f'<div class="banner" role="note">{html.escape(SYNTHETIC_WARNING)}</div>' if synthetic else ""
    body = []
    for r in rows.itertuples(index=False):
        interval = (f'<span class="ci">{_number(r.ci_low, r.indicator_kind)} to {_number(r.ci_high, r.indicator_kind)}</span>'
                    if pd.notna(r.ci_low) else "")
        body.append(
            f"<tr><td>{html.escape(r.label)}</td><td class=\"n\"><b>{_number(r.value, r.indicator_kind)}</b> {interval}</td>"
            f"<td class=\"n\">{r.base}</td><td class=\"n\">{_number(r.group_lowest, r.indicator_kind)} · "
            f"{_number(r.group_median, r.indicator_kind)} · {_number(r.group_highest, r.indicator_kind)}</td>"
            f"<td class=\"n\">{r.group_trusts}</td><td>{range_drawing(r)}</td>"
            f"<td class=\"c-{html.escape(str(r.compared).split()[0])}\">{COMPARED.get(r.compared, '')}</td></tr>")
    reporting = codebook.reporting
    weighting = (" Figures are weighted (see the workbook's notes); the base is the number who answered."
                 if weighted else "")
    return f"""<section class="trust">
{banner}
<h1>{html.escape(str(first.trust_name))}: your trust against similar trusts</h1>
<p class="meta">{html.escape(codebook.title)}, wave {html.escape(wave_id)}. Trust type: {html.escape(str(first.comparator_group))}.
{html.escape(codebook.publisher)}.</p>
<table>
<thead><tr><th>Indicator</th><th>Your trust ({reporting.confidence_level:.0%} interval)</th><th>Base</th>
<th>Similar trusts: lowest · median · highest</th><th>Similar trusts</th><th>Where your trust sits</th>
<th>Against the rest of England</th></tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
<p class="how">How to read this: similar trusts are the trusts of the same type with at least {reporting.min_base}
respondents answering the question (this trust included); the grey bar runs from the lowest to the highest of them,
the black tick is their median and the blue dot is this trust. "Above" or "below" means this trust differs from all
other trusts' respondents together by more than chance would explain ({reporting.significance_level:.0%} level);
"similar" means it does not. A question with fewer than {reporting.min_base} answers in this trust is not shown.{weighting}</p>
</section>"""


def render_trust_pages(codebook: Codebook, wave_id: str, benchmarks: pd.DataFrame, synthetic: bool) -> str:
    """The pages' HTML: one section, printed as one A4 page, per trust in ``benchmarks``. Indicators go by the
    short names the charts use, under their question where two share one, so that a page holds a long headline."""
    weighted = bool(benchmarks["weighted"].any())
    names = short_labels(codebook, list(dict.fromkeys(benchmarks["indicator_id"])))
    benchmarks = benchmarks.assign(label=[names.get(i, label) for i, label in
                                          zip(benchmarks["indicator_id"], benchmarks["label"])])
    pages = [_page(codebook, wave_id, rows, synthetic, weighted)
             for _, rows in benchmarks.groupby(["trust_name", "trust_code"], sort=True)]
    title = f"{codebook.title}: wave {wave_id}, each trust against similar trusts"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{STYLE}</style></head>
<body>
{chr(10).join(pages)}
</body></html>
"""


STYLE = """
@page { size: A4 landscape; margin: 10mm 12mm; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: #231f20; margin: 1.5em auto; max-width: 70em; font-size: 9pt; }
.trust { break-after: page; break-inside: avoid; margin-bottom: 3em; } .trust:last-child { break-after: auto; }
.banner { background: #fde8e8; border-left: 5px solid #c00000; color: #8a0000; font-weight: bold;
          padding: .3em .7em; font-size: 9pt; margin-bottom: .4em; }
h1 { font-size: 13pt; margin: .2em 0 .1em; color: #005EB8; }
.meta { margin: 0 0 .6em; color: #425563; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-size: 8.5pt; border-bottom: 1.5px solid #231f20; padding: .25em .4em; vertical-align: bottom; }
td { border-bottom: 1px solid #d8dde0; padding: .1em .4em; vertical-align: middle; line-height: 1.1; font-size: 8.5pt; }
td.n { text-align: right; white-space: nowrap; } .ci { color: #425563; font-size: 8pt; }
.c-above { color: #006747; font-weight: bold; } .c-below { color: #8a0000; font-weight: bold; }
.how { font-size: 7.5pt; margin: .4em 0 0; color: #425563; }
@media print { body { margin: 0; max-width: none; } }
"""
