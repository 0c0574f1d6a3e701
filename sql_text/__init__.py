"""SQL text: reading a statement from a ``.sql`` file, and placing a value or a name into SQL text.

The one SQL-file loader and the one identifier quoter of the project. They sit in a room of their own, at
the bottom of the layers (``[tool.importlinter]`` in pyproject.toml), because both the warehouse and the
validation engine below it read ``.sql`` files kept beside their code and quote column names taken from a
codebook: a helper inside ``warehouse`` could not be imported by ``validation``, and it is about neither
codebooks (``schemas``) nor a survey home (``home``). This package imports nothing of the project.

Values are bound (``?`` or ``$name``) and never pasted, except where DuckDB binds no parameter:
``COMMENT ON`` takes none, and a view definition cannot hold one (it is stored and run later, by whatever
client opens the file), so the comments of the analysts' snapshot and its generated views carry their
values as SQL literals. What does not belong here: building any statement, or knowing where a package
keeps its ``.sql`` files (each passes its own folder).
"""

from __future__ import annotations

from pathlib import Path


def read_sql(folder: Path | str, name: str) -> str:
    """The text of ``<folder>/<name>.sql`` (UTF-8)."""
    return (Path(folder) / f"{name}.sql").read_text(encoding="utf-8")


def literal(text: str) -> str:
    """``text`` as a SQL string literal: single quotes around it, each single quote inside doubled."""
    return "'" + str(text).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a column such as ``trust_barriers.funding`` keeps its dot)."""
    return '"' + str(name).replace('"', '""') + '"'
