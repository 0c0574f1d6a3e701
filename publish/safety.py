"""Making text safe to open in a spreadsheet: formula injection is neutralised.

Option labels, trust names and anything else that came from outside may begin with a character that a
spreadsheet reads as the start of a formula. Such a cell gets a leading apostrophe, as OWASP recommends,
so that it is shown as text and never run.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell (and column name) is neutralised; numbers are left as numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(c) for c in safe.columns]
    return safe
