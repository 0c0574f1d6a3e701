"""How a codebook says its survey is weighted: to population cells (post-stratification) or to margins (raking).

``post_stratify`` weights each respondent by their cell's headcount over the cell's respondents; the cells are
made of the trust and respondent fields (the staff pulse: trust × occupational group), the headcounts come
with each wave in a population file named by its ``wave.yaml``. ``rake`` adjusts weights until the weighted
shares of the margins (trust type, region) match the reference list's. ``trim`` caps any weight at that many
times the mean weight. Suppression is always decided on the unweighted base.

What does not belong here: computing weights and weighted figures (``warehouse.weighting``,
``warehouse.statistics``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from schemas.reporting import IDENTIFIER, REFERENCE_DIMENSIONS
from schemas.strict import Strict as _Strict

TRUST_CELL = "trust_code"  # a population file's column of trust codes (a cell variable of that name)


class Weighting(_Strict):
    method: Literal["post_stratify", "rake"]
    # post_stratify: the cell variables, each the trust (trust_code) or a respondent field's column.
    cells: tuple[Annotated[str, Field(pattern=IDENTIFIER)], ...] = ()
    # rake: the margins, from the trust reference list.
    margins: tuple[Literal["trust_type", "region"], ...] = ()
    trim: float | None = Field(default=None, gt=1)  # at most this many times the mean weight
    tolerance: float = Field(default=1e-6, gt=0)  # raking: the largest gap left between a margin's shares
    max_iterations: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _cells_or_margins(self) -> Weighting:
        if self.method == "post_stratify" and (not self.cells or self.margins):
            raise ValueError("post_stratify weighting names its cells (cells: [trust_code, <field>]) and no margins")
        if self.method == "rake" and (not self.margins or self.cells):
            raise ValueError(f"rake weighting names its margins (margins: [{', '.join(REFERENCE_DIMENSIONS)}]) "
                             "and no cells")
        if len(set(self.cells)) < len(self.cells) or len(set(self.margins)) < len(self.margins):
            raise ValueError("weighting names a cell or margin twice")
        return self

