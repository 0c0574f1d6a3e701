"""Dagster resources: the survey home (landing folder, codebooks, reference data and warehouse file).

A resource of our own rather than dagster-duckdb's ``DuckDBResource``: steps write a survey's private
working database, one process at a time under the survey's writer lock, and open it only inside a step
(never at definitions load); analysts read the snapshot the ``analyst_warehouse`` asset publishes.

Its fields are the home's settings (``home.settings.Settings``) as the Dagster definitions pass them
down; the resource reads no environment variable of its own. What does not belong here: any asset, or
the wiring of resources into definitions (``pipelines.definitions``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from pydantic import SecretStr

from exports import ReadLimits
from home.settings import DEFAULT_DUCKDB_MEMORY_MB, DEFAULT_MAX_FILE_MB, DEFAULT_SETTLE_SECONDS, Settings, SurveyHome
from schemas.reference import TrustResolver, load_trusts
from warehouse.pseudonyms import Pseudonymiser, respondent_key
from warehouse.working_databases import working_database


class SurveyHomeResource(dg.ConfigurableResource):
    """The folder holding a survey home's landing folder, warehouse and Dagster instance."""

    home: str
    max_file_mb: int = DEFAULT_MAX_FILE_MB  # a landed file larger than this is refused whole
    duckdb_memory_mb: int = DEFAULT_DUCKDB_MEMORY_MB  # DuckDB's memory for the working database
    # The pseudonym key when the settings have one (passed as ``dg.EnvVar``, so Dagster's config, which the
    # UI shows, holds the variable's name and never the key); otherwise the home's key file.
    respondent_key: str | None = None
    settle_seconds: float = DEFAULT_SETTLE_SECONDS  # a landed file changed more recently is not read yet
    # Rows with bytes that are not UTF-8 a UTF-8 file may have, quarantined: this many or this share.
    encoding_error_rows: int = ReadLimits.encoding_error_rows
    encoding_error_share: float = ReadLimits.encoding_error_share
    brief_pdf: bool = True  # the pack's brief printed to PDF by headless Chromium
    writer_wait_minutes: int = 60  # how long a step waits for another process writing the working database
    # A DuckLake each publication goes into too (a prototype): the catalog passed as ``dg.EnvVar``, as the key is.
    ducklake_catalog: str | None = None
    ducklake_data_path: str | None = None
    ducklake_python: str | None = None
    ducklake_keep_days: float | None = None  # the lake's snapshots older than this expired after each publication

    @property
    def settings(self) -> Settings:
        """The settings this resource was given, as one object again."""
        return Settings.model_construct(
            home=Path(self.home), max_file_mb=self.max_file_mb, duckdb_memory_mb=self.duckdb_memory_mb,
            settle_seconds=self.settle_seconds, encoding_error_rows=self.encoding_error_rows,
            encoding_error_share=self.encoding_error_share, brief_pdf=self.brief_pdf,
            respondent_key=SecretStr(self.respondent_key) if self.respondent_key else None,
            ducklake_catalog=SecretStr(self.ducklake_catalog) if self.ducklake_catalog else None,
            ducklake_data_path=Path(self.ducklake_data_path) if self.ducklake_data_path else None,
            ducklake_python=Path(self.ducklake_python) if self.ducklake_python else None,
            ducklake_keep_days=self.ducklake_keep_days)

    @property
    def paths(self) -> SurveyHome:
        return SurveyHome(Path(self.home), self.settings)

    def trusts(self) -> pd.DataFrame:
        return load_trusts()

    def pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser(respondent_key(self.paths.respondent_key_file, self.respondent_key))

    def trust_resolver(self) -> TrustResolver:
        return TrustResolver(self.trusts())

    @property
    def read_limits(self) -> ReadLimits:
        return self.settings.read_limits

    @contextmanager
    def warehouse(self, survey_id: str, log: logging.Logger | None = None,
                  rebuild: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection to the survey's working database, opened for one step and closed after it,
        holding the survey's writer lock meanwhile (waiting, and saying so in ``log``, while another process
        writes the survey; another survey's writer never makes it wait); with ``rebuild`` (the step that
        publishes), the working file rebuilt first if rows were deleted from it."""

        def waiting(holder: str) -> None:
            if log:
                log.info("Waiting for the working database of %s: %s is writing it", survey_id, holder)

        def rebuilding(reasons: list[str]) -> None:
            if log:
                log.info("Rebuilding the working database of %s before it is used: %s", survey_id, "; ".join(reasons))

        with working_database(self.paths, survey_id, rebuild=rebuild, on_rebuild=rebuilding, on_wait=waiting,
                              timeout_s=self.writer_wait_minutes * 60) as con:
            yield con
