"""What the pack says about a weighted survey's weighting, in plain words: how the figures are weighted, what it
cost each wave in precision (Kish's effective base, efficiency, design effect, weight range), and a warning
where a wave's efficiency is below 70% (Quantipy's guidance: re-examine the scheme).

What does not belong here: making the weights or the diagnostics (``warehouse.weighting``).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.codebook import Codebook
from warehouse.connection import read_sql
from warehouse.weighting import LOW_EFFICIENCY

LOW_EFFICIENCY_TERM = "Weighting warning"


def weighting_table(con: duckdb.DuckDBPyConnection, codebook: Codebook, waves: list[str]) -> pd.DataFrame:
    """The weighting diagnostics of ``waves`` (none for an unweighted survey)."""
    return con.execute(read_sql("pack_weighting"), {"survey_id": codebook.survey_id, "waves": list(waves)}).df()


def how_weighted(codebook: Codebook) -> str:
    """One sentence on how the survey's figures are weighted, for a reader who is not a statistician."""
    weighting = codebook.weighting
    if weighting.method == "post_stratify":
        cells = " within ".join(reversed(["trust" if c == "trust_code" else codebook.dimension_name(c)
                                          for c in weighting.cells]))
        how = (f"Figures are weighted by {cells} to each wave's staff numbers (its population file), so that a group "
               "that answered more than others does not count for more than its share of the staff.")
    else:
        margins = " and ".join(codebook.dimension_name(m) for m in weighting.margins)
        how = (f"Figures are weighted so that the responding trusts match all trusts in England by {margins}, each "
               "trust first counting once.")
    trim = f" No weight is more than {weighting.trim:g} times the average." if weighting.trim else ""
    return (how + trim + " Each base is the number who answered (unweighted), which also decides whether a figure is "
            "shown; intervals and tests allow for the weighting (they use the effective base).")


def weighting_notes(codebook: Codebook, weighting: pd.DataFrame | None) -> list[tuple[str, str]]:
    """The notes sheet's lines on the weighting: how, then each wave's diagnostics, then any warning."""
    if codebook.weighting is None or weighting is None:
        return []
    lines = [("Weighting", how_weighted(codebook)),
             ("Effective base", "The number of unweighted respondents the weighted ones are worth, (sum of weights)² / "
                                "sum of squared weights (Kish); efficiency is the effective base over the "
                                "respondents, the design effect the respondents over the effective base.")]
    for r in weighting.itertuples(index=False):
        lines.append((f"Weights, wave {r.wave_id}",
                      f"{r.respondents:,} respondents, effective base {r.effective_base:,.0f} (efficiency "
                      f"{r.efficiency:.0%}, design effect {r.design_effect:.2f}); weights from {r.min_weight:.3g} to "
                      f"{r.max_weight:.3g} (median {r.median_weight:.3g}); {r.trimmed_share:.1%} trimmed"
                      + (f"; {r.cells_without_respondents} population cell"
                         f"{'' if r.cells_without_respondents == 1 else 's'} without respondents."
                         if r.method == "post_stratify" else ".")))
    low = weighting[weighting["efficiency"] < LOW_EFFICIENCY]
    if len(low):
        lines.append((LOW_EFFICIENCY_TERM, "The weighting of wave " + ", ".join(
            f"{r.wave_id} ({r.efficiency:.0%})" for r in low.itertuples(index=False))
            + f" is less than {LOW_EFFICIENCY:.0%} efficient: the respondents differ a lot from the population, and "
              "the weighting scheme should be re-examined before the weighted figures are relied on."))
    return lines
