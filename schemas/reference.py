"""Reference data the response contract checks against: the list of NHS trusts in England.

What belongs here: loading the bundled reference list (``schemas/reference/``) or a user's replacement.
What does not: writing it to the warehouse (``warehouse.dimensions``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TRUSTS_CSV = Path(__file__).parent / "reference" / "nhs_trusts_england.csv"
TRUST_COLUMNS = ["ods_code", "name", "type", "region", "ics", "predecessor_codes", "merger_date"]


def load_trusts(path: Path | str = TRUSTS_CSV) -> pd.DataFrame:
    """The reference list of trusts, one row per current ODS code, every column as text."""
    trusts = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = [c for c in TRUST_COLUMNS if c not in trusts.columns]
    if missing:
        raise ValueError(f"{path}: the trust reference list lacks columns {missing}")
    duplicated = trusts["ods_code"][trusts["ods_code"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: ods_code must be unique; repeated: {duplicated}")
    return trusts[TRUST_COLUMNS]
