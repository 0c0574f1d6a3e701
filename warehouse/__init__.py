"""The DuckDB warehouse: its tables (``warehouse/sql``), loading waves and computing indicators and trends."""
