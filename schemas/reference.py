"""Reference data the response contract checks against: the list of NHS trusts in England.

What belongs here: loading the bundled reference list (``schemas/reference/``) or a user's replacement,
and resolving what respondents give (code, old code, name) to a current ODS code.
What does not: writing it to the warehouse (``warehouse.dimensions``).
"""

from __future__ import annotations

import functools
import hashlib
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


@functools.cache
def reference_digest(path: Path | str = TRUSTS_CSV) -> str:
    """The sha256 of the reference list: it decides which trust codes are valid, merged trusts' successors
    and the breakdowns, so a wave loaded against another list is loaded again."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class TrustResolver:
    """ODS codes from what a respondent gave: a current code, a merged trust's predecessor code (mapped
    to its successor), or a trust's name; matched ignoring case, spaces and quote styles."""

    def __init__(self, trusts: pd.DataFrame):
        from schemas.questions import fold

        self._fold = fold
        self.codes = trusts["ods_code"].tolist()
        self._current = {fold(c): c for c in self.codes}
        self._by_name = {fold(n): c for n, c in zip(trusts["name"], trusts["ods_code"])}
        self._successor = {
            fold(p): c
            for c, predecessors in zip(trusts["ods_code"], trusts["predecessor_codes"].fillna(""))
            for p in predecessors.split(";")
            if p.strip()
        }

    def resolve(self, value: str | None) -> tuple[str | None, str | None]:
        """(ODS code or the value unchanged, how it was matched: code, predecessor, name or None)."""
        if value is None or value != value:
            return value, None
        key = self._fold(value)
        for how, lookup in (("code", self._current), ("predecessor", self._successor), ("name", self._by_name)):
            if key in lookup:
                return lookup[key], how
        return value, None
