"""The Dagster wiring and the command: definitions, jobs, sensors and schedules, the runner behind `survey
run`, the home's Dagster instance, withdrawals, and the `survey` CLI.

What belongs here: putting assets, resources and sensors together, and running them for a person. What
does not: the assets and their resource (``assets``), plain file handling in a survey home and its
settings (``home``), or any query of the warehouse (``warehouse``). Inside, ``cli`` sits above ``runner``
above ``definitions`` above the rest (``[tool.importlinter]`` in pyproject.toml).
"""
