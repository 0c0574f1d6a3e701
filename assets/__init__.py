"""Dagster assets: thin wrappers that call the plain functions of ``schemas`` and ``warehouse``."""
