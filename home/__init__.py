"""The survey home: its settings, its folders (landing, archive, working, secrets, ...), and plain file
handling in them (which waves have landed, which are stale, a delivery waiting to replace a wave's files).

What belongs here: files and folders of a home, and the settings read from ``SURVEY_*`` variables. What
does not: Dagster (``pipelines``, ``assets``), the warehouse's databases (``warehouse``), validating rows
(``validation``) or publishing (``publish``); this package imports none of them (``[tool.importlinter]``
in pyproject.toml).
"""
