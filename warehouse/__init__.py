"""The DuckDB warehouse: its tables (``warehouse/sql``), opening it, loading waves (respondent pseudonyms
beside their SQL twin), computing indicators and trends, and the analysts' snapshot.

What does not belong here: validating a wave's rows (``validation``: the warehouse takes a validated
wave), reading exports (``exports``), Dagster, or the leadership pack (``publish``).
"""
