"""Placing a value or a name into SQL text, for the few statements where DuckDB binds no parameter.

``COMMENT ON`` takes no bound parameter, and a view definition cannot hold one (it is stored and run
later, by whatever client opens the file), so the comments of the analysts' snapshot and its generated
views carry their values as SQL literals. Everywhere else, values are bound (``?`` or ``$name``) and
never pasted. What does not belong here: building any statement.
"""

from __future__ import annotations


def literal(text: str) -> str:
    """``text`` as a SQL string literal: single quotes around it, each single quote inside doubled."""
    return "'" + str(text).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a column such as ``trust_barriers.funding`` keeps its dot)."""
    return '"' + str(name).replace('"', '""') + '"'
