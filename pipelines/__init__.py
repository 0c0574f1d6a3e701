"""Orchestration: Dagster definitions, partitions, sensors, schedules, resources, and the `survey` CLI."""
