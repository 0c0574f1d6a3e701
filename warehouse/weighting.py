"""Weights for a wave: post-stratification to population cells, trimming, and what they cost in precision.

A respondent's post-stratification weight is their cell's headcount divided by the cell's respondents, so the
weights add up to the population of the cells that have respondents (a division per cell: no library needed).
The population comes with the wave as a CSV of the cell variables and ``headcount``; a file that cannot be
trusted is refused with one line naming the file, the row, the column and the rule, as a refused export is.
Trimming caps each weight at a multiple of the mean weight and rescales to the same total, again until no
weight is over the cap. Kish's effective base, (Σw)² / Σw², says how many unweighted respondents the weighted
ones are worth; the design effect is the base over it.

What does not belong here: the weighted estimates and their intervals (``warehouse.statistics``), the codebook's
declaration (``schemas.weighting``), and reading the wave's exports.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from home.landing import population_file
from schemas.codebook import Codebook
from schemas.reference import TrustResolver
from schemas.waves import WAVE_SETTINGS
from schemas.weighting import TRUST_CELL
from sql_text import identifier, literal
from warehouse.connection import read_sql
from warehouse.raking import RakingRefused, rake_and_trim, reference_targets

HEADCOUNT = "headcount"
WHOLE_NUMBER = re.compile(r"\s*\+?\d+\s*")
SHOWN_CELLS = 3  # cells named in a refusal; the count says how many more
# Below this efficiency (effective base / respondents) a weighting is worth a second look (Quantipy's guidance:
# under 80% the sample and population differ a lot, under 70% re-examine the scheme).
LOW_EFFICIENCY = 0.7


class PopulationRefused(ValueError):
    """A population file, or the respondents' cells against it, that cannot give weights."""


@dataclass(frozen=True)
class Weights:
    """A wave's weights (one per respondent, in the order given) and what they say about the weighting."""

    weights: np.ndarray
    warnings: tuple[str, ...] = ()
    cells_without_respondents: int = 0
    trimmed_share: float = 0.0
    diagnostics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Population:
    """A wave's population: its cells and headcounts, and the file they were read from (its name and sha256, and
    where the load archived it), which the wave's weighting diagnostics and the pack's manifest name."""

    cells: pd.DataFrame
    file: str
    sha256: str
    archived_as: str | None = None


def wave_population(wave_dir: Path, codebook: Codebook, wave_id: str, resolver: TrustResolver) -> Population | None:
    """The wave's population for its survey's post-stratification (None for a survey not weighted to cells);
    raises ``PopulationRefused`` when the survey is and the wave's wave.yaml names no population file, or a file
    that is not there or cannot be used."""
    weighting = codebook.weighting
    if weighting is None or weighting.method != "post_stratify":
        return None
    path = population_file(wave_dir)
    if path is None:
        raise PopulationRefused(f"the {codebook.survey_id} codebook weights each wave to its population "
                                f"({' × '.join(weighting.cells)}): wave {wave_id}'s {WAVE_SETTINGS} names no "
                                "population_file (a CSV beside its exports)")
    if not path.is_file():
        raise PopulationRefused(f"{path.name}: the population file wave {wave_id}'s {WAVE_SETTINGS} names is not there")
    data = path.read_bytes()  # hashed as read, so the digest recorded is of the bytes the weights come from
    return Population(read_population(path, codebook, resolver, data), path.name, hashlib.sha256(data).hexdigest())


def read_population(path: Path, codebook: Codebook, resolver: TrustResolver, data: bytes | None = None) -> pd.DataFrame:
    """The population file's cells (as the codebook's option ids and current trust codes) and headcounts;
    raises ``PopulationRefused`` for a missing column, a headcount that is not a whole number, a trust or option
    the codebook does not know, or a cell listed twice."""
    cells = list(codebook.weighting.cells)
    raw = pd.read_csv(io.BytesIO(data) if data is not None else path, dtype=str, keep_default_na=False)
    missing = [c for c in [*cells, HEADCOUNT] if c not in raw.columns]
    if missing:
        raise PopulationRefused(f"{path.name}: missing columns {missing} (a population file has the weighting's "
                                f"cells, {', '.join(cells)}, and {HEADCOUNT})")
    population = pd.DataFrame(index=raw.index)
    for column in cells:
        known = set(resolver.codes) if column == TRUST_CELL else {o.id for o in codebook.respondent.field(column).options}
        values = raw[column].str.strip()
        for row, value in values.items():  # the file's own values: cell ids and trust codes, never a response
            resolved = resolver.resolve(value)[0] if column == TRUST_CELL else value
            if resolved not in known:
                raise PopulationRefused(f"{path.name} row {row + 2}, column {column}: {value!r} is not "
                                        f"{'a trust of the reference list' if column == TRUST_CELL else 'an option id of ' + column}")
            values[row] = resolved
        population[column] = values
    for row, value in raw[HEADCOUNT].items():
        if not WHOLE_NUMBER.fullmatch(value):
            raise PopulationRefused(f"{path.name} row {row + 2}, column {HEADCOUNT}: {value!r} is not a whole number")
    population[HEADCOUNT] = raw[HEADCOUNT].astype(int)
    repeated = population[population.duplicated(cells, keep="first")]
    if len(repeated):
        row = int(repeated.index[0])
        raise PopulationRefused(f"{path.name} row {row + 2}: the cell {_cell_text(repeated.iloc[0], cells)} is "
                                f"listed twice ({len(repeated)} repeated rows in all)")
    return population


def _cell_text(row: pd.Series, cells: list[str]) -> str:
    return " × ".join(f"{c} {row[c]}" for c in cells)


def post_stratified_weights(respondent_cells: pd.DataFrame, population: pd.DataFrame) -> Weights:
    """Each respondent's weight: their cell's headcount over the cell's respondents. ``respondent_cells`` holds
    one row per respondent with the cell variables (option ids, current trust codes). Refused: a cell with
    respondents and no population row, or a headcount of 0. A cell with fewer people than respondents is a
    warning; population cells with no respondent are counted, not invented."""
    cells = [c for c in population.columns if c != HEADCOUNT]
    counted = respondent_cells.groupby(cells, sort=True).size().rename("respondents").reset_index()
    joined = counted.merge(population, on=cells, how="left")
    lacking = joined[joined[HEADCOUNT].isna() | (joined[HEADCOUNT] == 0)]
    if len(lacking):
        shown = "; ".join(_cell_text(r, cells) for _, r in lacking.head(SHOWN_CELLS).iterrows())
        more = f" and {len(lacking) - SHOWN_CELLS} more" if len(lacking) > SHOWN_CELLS else ""
        raise PopulationRefused(f"{len(lacking)} cells with respondents have no population (no row, or a headcount "
                                f"of 0): {shown}{more}")
    over = joined[joined[HEADCOUNT] < joined["respondents"]]
    warnings = tuple(f"{_cell_text(r, cells)}: {int(r['respondents'])} respondents but a headcount of "
                     f"{int(r[HEADCOUNT])}" for _, r in over.iterrows())
    joined["weight"] = joined[HEADCOUNT] / joined["respondents"]
    weights = respondent_cells.merge(joined[[*cells, "weight"]], on=cells, how="left")["weight"].to_numpy()
    empty = len(population.merge(counted[cells], on=cells, how="left", indicator=True).query("_merge == 'left_only'"))
    return Weights(weights, warnings, empty)


def trim(weights: np.ndarray, cap: float, max_iterations: int = 100) -> tuple[np.ndarray, float]:
    """Weights capped at ``cap`` times their mean and rescaled to the same total, until none is over the cap;
    and the share of respondents whose weight was capped."""
    total, capped = weights.sum(), np.zeros(len(weights), dtype=bool)
    trimmed = weights.astype(float).copy()
    for _ in range(max_iterations):
        limit = cap * trimmed.mean()
        over = trimmed > limit * (1 + 1e-12)
        if not over.any():
            return trimmed, float(capped.mean())
        capped |= over
        trimmed[over] = limit
        trimmed *= total / trimmed.sum()
    raise PopulationRefused(f"trimming weights at {cap:g} times the mean did not settle in {max_iterations} rounds")


def kish_effective_base(sum_of_weights: float, sum_of_squares: float) -> float:
    """Kish's effective base, (Σw)² / Σw²: the unweighted respondents the weighted ones are worth."""
    return sum_of_weights * sum_of_weights / sum_of_squares


def diagnostics(weights: np.ndarray) -> dict:
    """What a weighting costs: respondents, sum of weights, effective base and efficiency, design effect, and
    the smallest, median and largest weight."""
    n, total, squares = len(weights), float(weights.sum()), float((weights * weights).sum())
    effective = kish_effective_base(total, squares)
    return {"respondents": n, "sum_of_weights": total, "effective_base": effective, "efficiency": effective / n,
            "design_effect": n / effective, "min_weight": float(weights.min()),
            "median_weight": float(np.median(weights)), "max_weight": float(weights.max())}


def respondent_cells_sql(codebook: Codebook) -> str:
    """SQL of each respondent of a wave ($survey_id, $wave_id) with their weighting cell: the trust and the
    fields the weighting names (an optional field left blank is NULL, a cell no population has)."""
    columns = []
    for cell in codebook.weighting.cells:
        if cell == TRUST_CELL:
            columns.append(f"any_value(r.trust_code) AS {TRUST_CELL}")
        else:
            columns.append(f"any_value(f.option_id) FILTER (WHERE f.field_id = {literal(cell)}) AS {identifier(cell)}")
    return (f"SELECT r.respondent_id, {', '.join(columns)} FROM respondents AS r "
            "LEFT JOIN respondent_fields AS f ON f.survey_id = r.survey_id AND f.wave_id = r.wave_id "
            "AND f.respondent_id = r.respondent_id "
            "WHERE r.survey_id = $survey_id AND r.wave_id = $wave_id GROUP BY r.respondent_id ORDER BY 1")


def weigh_wave(con, codebook: Codebook, wave_id: str, population: Population | None) -> Weights:
    """Weight the wave's loaded respondents as the codebook says (to ``population``'s cells, or raked to the
    reference list's margins), trimmed, into ``respondents.weight``, and record what it cost
    (``weighting_diagnostics``); call inside the load's transaction."""
    params = {"survey_id": codebook.survey_id, "wave_id": wave_id}
    weighting = codebook.weighting
    if weighting.method == "rake":
        respondents = con.execute(read_sql("rake_respondents"), params).df()
        trusts = con.execute("SELECT trust_type, region FROM trusts").df()
        pooled = codebook.reporting.pooled_groups
        margins = list(weighting.margins)
        categories = pd.DataFrame({m: respondents[m].replace(pooled.get(m, {})) for m in margins})
        start = 1 / respondents.groupby("trust_code")["trust_code"].transform("size").to_numpy(dtype=float)
        try:
            weights, trimmed_share = rake_and_trim(start, categories, reference_targets(trusts, margins, pooled),
                                                   weighting.trim, weighting.tolerance, weighting.max_iterations)
        except RakingRefused as exc:
            raise PopulationRefused(str(exc)) from None
        result = Weights(weights)
    else:
        respondents = con.execute(respondent_cells_sql(codebook), params).df()
        result = post_stratified_weights(respondents.drop(columns=["respondent_id"]), population.cells)
        weights, trimmed_share = result.weights, 0.0
        if weighting.trim is not None:
            weights, trimmed_share = trim(weights, weighting.trim)
    con.register("respondent_weights", pd.DataFrame({"respondent_id": respondents["respondent_id"], "weight": weights}))
    try:
        con.execute("UPDATE respondents AS r SET weight = w.weight FROM respondent_weights AS w "
                    "WHERE r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = w.respondent_id",
                    params)
    finally:
        con.unregister("respondent_weights")
    summary = {**diagnostics(weights), "trimmed_share": trimmed_share,
               "cells_without_respondents": result.cells_without_respondents, "warnings": list(result.warnings),
               "population_file": population and population.file, "population_sha256": population and population.sha256,
               "population_archived_as": population and population.archived_as}
    con.execute("INSERT INTO weighting_diagnostics BY NAME SELECT $survey_id AS survey_id, $wave_id AS wave_id, "
                "$method AS method, " + ", ".join(f"${k} AS {k}" for k in summary),
                {**params, "method": weighting.method, **summary})
    return Weights(weights, result.warnings, result.cells_without_respondents, trimmed_share, summary)


def weighting_metadata(con, survey_id: str, wave_id: str) -> dict:
    """The wave's weighting diagnostics as the run's metadata: numbers only, and the cells over their headcount."""
    row = con.execute("SELECT effective_base, efficiency, design_effect, min_weight, max_weight, trimmed_share, "
                      "cells_without_respondents, warnings FROM weighting_diagnostics "
                      "WHERE survey_id = $survey_id AND wave_id = $wave_id", {"survey_id": survey_id, "wave_id": wave_id}
                      ).fetchone()
    if row is None:
        return {}
    effective, efficiency, deff, low, high, trimmed, empty, warnings = row
    return {"effective_base": round(effective, 1), "weighting_efficiency": round(efficiency, 4),
            "design_effect": round(deff, 3), "weight_range": f"{low:.3g} to {high:.3g}",
            "trimmed_share": round(trimmed, 4), "population_cells_without_respondents": int(empty),
            "cells_over_headcount": len(warnings)}
