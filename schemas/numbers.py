"""The rule for a numeric question's answer: which text is a number, and the number it is.

An answer is a plain decimal number: ASCII digits, perhaps a sign and a decimal point with digits after it
(``7``, ``+7``, ``-2``, ``7.5``, ``7.0``, ``007``), with white space around it, as a person types it or a
survey tool writes it, of at most 15 digits, leading zeros and trailing decimal zeros aside (what a stored
double holds exactly). An exponent (``7e1``), a decimal comma (``7,5``), a thousands separator
(``1,000``), a point with no digits after it, text or a unit (``7 hours``) is not: it would be read as
another number by some tool, or by none. Where the question asks for whole numbers, the decimal part must
be zeros (``7.0`` is 7); the codebook's ``min`` and ``max`` bound it, both inclusive.

``canonical_number`` is the one place the rule is written: validation (``validation.rules``) makes each
distinct answer canonical with it, and the pandera schema (``schemas.response_schema``) refuses, with rule
``numeric_value``, each answer it makes nothing of. What does not belong here: reading files, or storing
the number (``warehouse.load`` casts the canonical text).
"""

from __future__ import annotations

import re
from decimal import Decimal

_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


# The digits a number stored as a double (``numeric_responses.value``) keeps exactly: a longer one would be
# stored as another number, or as infinity.
MAX_DIGITS = 15


def canonical_number(text: str | None, integer: bool = False, minimum: float | None = None,
                     maximum: float | None = None) -> str | None:
    """The answer's number as canonical text (``" +7.0 "`` → ``"7"``, ``"7.50"`` → ``"7.5"``), or None when
    the text is not a plain decimal number of at most 15 digits (leading and trailing zeros aside), not whole
    where ``integer``, or outside ``minimum``..``maximum``."""
    if text is None:
        return None
    stripped = text.strip()
    if not _PLAIN_DECIMAL.fullmatch(stripped):
        return None
    whole, _, decimals = stripped.lstrip("+-").partition(".")
    if len(whole.lstrip("0")) + len(decimals.rstrip("0")) > MAX_DIGITS:
        return None
    value = Decimal(stripped)
    if integer and value != value.to_integral_value():
        return None
    if (minimum is not None and value < Decimal(str(minimum))) or (maximum is not None and value > Decimal(str(maximum))):
        return None
    if value == 0:
        return "0"  # not "-0"
    return format(value.normalize(), "f")
