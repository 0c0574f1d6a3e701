"""The staff pulse's bundled 2026Q3 as delivered, each respondent weighted here from its population file (their
cell's headcount over the cell's respondents): what the weighting and benchmarking tests compute their
expectations from, independently of the warehouse."""

from __future__ import annotations

import pandas as pd

from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook

CELLS = ["trust_code", "occupational_group"]
POSITIVE = ["Agree", "Strongly agree"]
POINTS = {"Strongly disagree": 0, "Disagree": 2.5, "Neither agree nor disagree": 5, "Agree": 7.5, "Strongly agree": 10}
ENGAGEMENT = ["eng_enthusiastic", "eng_time_passes", "eng_recommend_work", "eng_recommend_care"]


def staff_wave(wave_id: str = "2026Q3"):
    from sample_data.generator import LANDING_DIR, POPULATION_FILE, sample_file_name

    folder = LANDING_DIR / "staff-pulse" / wave_id
    return folder / sample_file_name("staff-pulse", wave_id), folder / POPULATION_FILE


def weighted_wave() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The wave as delivered with each respondent's weight, the cells and the population file."""
    export, population_csv = staff_wave()
    delivered = pd.read_csv(export, dtype=str, keep_default_na=False, na_values=[""])
    population = pd.read_csv(population_csv)
    labels = {o.label: o.id for o in load_codebook(BUNDLED_CODEBOOKS_DIR / "staff-pulse.yaml")
              .respondent.field("occupational_group").options}
    delivered["occupational_group"] = delivered["occupational_group"].map(labels)
    cells = delivered.groupby(CELLS).size().rename("respondents").reset_index().merge(population, on=CELLS)
    cells["weight"] = cells["headcount"] / cells["respondents"]
    return delivered.merge(cells[[*CELLS, "weight"]], on=CELLS), cells, population
