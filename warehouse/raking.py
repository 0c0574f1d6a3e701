"""Raking a wave's respondents to the margins of the trust reference list (trust type, region), with ipfn.

Each respondent starts from their trust's weight (1 / the trust's respondents, so that each trust counts once),
and the weights are adjusted until the weighted share of every margin category (pooled as the codebook's
``reporting.pooled_groups`` pools it) is the share of the reference list's trusts in it, scaled to the
respondents. Raking the respondents is raking the table of their summed starting weights by category, each
respondent then scaled by their cell's factor: ipfn rakes the table (numpy, fast whatever the wave's size).

ipfn 1.4.4 was chosen over weightipy 0.4.2 on the tests in ``tests/test_raking.py``: weightipy's public API
silently rakes from equal starting weights (the trust weight would be lost) and ignores its tolerance; ipfn keeps
starting weights, takes a tolerance and an iteration limit, needs only numpy and pandas, and imports in a few
milliseconds. It has had no release since 2021, so what it does not check is checked here: a margin category
with no respondent but a share in the reference list, and the margins actually reached (its convergence flag
says converged when the targets cannot be met). Trimming caps weights and rakes again, until none is over the cap.

What does not belong here: post-stratification and the diagnostics (``warehouse.weighting``).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd


class RakingRefused(ValueError):
    """Margins that raking cannot meet: a category without respondents, or no convergence."""


def margin_gap(weights: np.ndarray, categories: pd.DataFrame, targets: dict[str, pd.Series]) -> float:
    """The largest gap between a margin category's weighted share and its target share."""
    total = weights.sum()
    return max(
        float((pd.Series(weights).groupby(categories[m].to_numpy()).sum() / total - share).abs().max())
        for m, share in targets.items()
    )


def rake(start: np.ndarray, categories: pd.DataFrame, targets: dict[str, pd.Series], tolerance: float = 1e-6,
         max_iterations: int = 100) -> np.ndarray:
    """Weights from ``start`` raked so that, for each margin (a column of ``categories``, one row per
    respondent), the weighted share of each category is ``targets[margin]`` (shares adding up to 1), scaled to
    the respondents; raises ``RakingRefused`` for a category with a target and no respondent, or when the margins
    are not within ``tolerance`` after ``max_iterations``."""
    margins = list(targets)
    for margin in margins:
        present = set(categories[margin])
        empty = [c for c, share in targets[margin].items() if share > 0 and c not in present]
        if empty:
            raise RakingRefused(f"raking to {margin} refused: no respondent's trust is in {', '.join(map(str, empty))}, "
                                "which the reference list has (pool it with another group in reporting.pooled_groups)")
        if categories[margin].isna().any():
            raise RakingRefused(f"raking to {margin} refused: {int(categories[margin].isna().sum())} respondents' "
                                f"trusts have no {margin} in the reference list")
        unknown = sorted(present - set(targets[margin].index), key=str)
        if unknown:
            raise RakingRefused(f"raking to {margin} refused: respondents in {', '.join(map(str, unknown))}, which "
                                "the reference list does not have")
    from ipfn import ipfn  # imported where raking is done: the definitions do not need it

    codes = [pd.Categorical(categories[m], categories=targets[m].index) for m in margins]
    cell = tuple(c.codes for c in codes)
    table = np.zeros([len(targets[m]) for m in margins])
    np.add.at(table, cell, start)
    aggregates = [targets[m].to_numpy(dtype=float) * len(start) for m in margins]
    with contextlib.redirect_stdout(io.StringIO()):  # ipfn prints its progress
        raked = ipfn.ipfn(table.copy(), aggregates, [[i] for i in range(len(margins))], convergence_rate=tolerance,
                          max_iteration=max_iterations, rate_tolerance=0.0, verbose=0).iteration()
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(table > 0, raked / table, 0.0)
    weights = start * factor[cell]
    gap = margin_gap(weights, categories, targets)
    if not gap <= tolerance:
        raise RakingRefused(f"raking did not converge in {max_iterations} iterations: a margin's weighted share is "
                            f"{gap:.2g} from its target (tolerance {tolerance:g})")
    return weights


def rake_and_trim(start: np.ndarray, categories: pd.DataFrame, targets: dict[str, pd.Series], cap: float | None,
                  tolerance: float = 1e-6, max_iterations: int = 100) -> tuple[np.ndarray, float]:
    """Raked weights, capped at ``cap`` times their mean and raked again until none is over it; and the share of
    respondents whose weight was capped."""
    weights = rake(start, categories, targets, tolerance, max_iterations)
    capped = np.zeros(len(weights), dtype=bool)
    for _ in range(max_iterations if cap is not None else 0):
        over = weights > cap * weights.mean() * (1 + 1e-9)
        if not over.any():
            break
        capped |= over
        weights = rake(np.minimum(weights, cap * weights.mean()), categories, targets, tolerance, max_iterations)
    else:
        if cap is not None:
            raise RakingRefused(f"trimming raked weights at {cap:g} times the mean did not settle in "
                                f"{max_iterations} rounds")
    return weights, float(capped.mean())


def reference_targets(trusts: pd.DataFrame, margins: list[str], pooled: dict[str, dict[str, str]]) -> dict[str, pd.Series]:
    """Each margin's target shares: the share of the reference list's trusts in each category, pooled as the
    codebook pools groups."""
    return {m: trusts[m].replace(pooled.get(m, {})).value_counts(normalize=True).sort_index() for m in margins}
