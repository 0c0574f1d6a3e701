"""Dagster resources: the survey home (landing folder, codebooks, reference data and warehouse file).

A resource of our own rather than dagster-duckdb's ``DuckDBResource``: steps write the home's private
working database, one process at a time under the home's writer lock, and open it only inside a step
(never at definitions load); analysts read the snapshot the ``analyst_warehouse`` asset publishes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from home.settings import DEFAULT_MAX_FILE_MB, DEFAULT_STAGE_FROM_MB, SurveyHome
from schemas.reference import TrustResolver, load_trusts
from warehouse.connection import connect
from warehouse.pseudonyms import Pseudonymiser, respondent_key
from warehouse.writer_lock import writer_lock


class SurveyHomeResource(dg.ConfigurableResource):
    """The folder holding a survey home's landing folder, warehouse and Dagster instance."""

    home: str
    max_file_mb: int = DEFAULT_MAX_FILE_MB  # a landed file larger than this is refused whole
    stage_from_mb: float = DEFAULT_STAGE_FROM_MB  # plain-CSV waves this large are validated in DuckDB
    writer_wait_minutes: int = 60  # how long a step waits for another process writing the working database

    @property
    def paths(self) -> SurveyHome:
        return SurveyHome(Path(self.home))

    def trusts(self) -> pd.DataFrame:
        return load_trusts()

    def pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser(respondent_key(self.paths.respondent_key_file))

    def trust_resolver(self) -> TrustResolver:
        return TrustResolver(self.trusts())

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def stage_from_bytes(self) -> int:
        return int(self.stage_from_mb * 1024 * 1024)

    @contextmanager
    def warehouse(self, log: logging.Logger | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection to the working database, opened for one step and closed after it, holding
        the writer lock meanwhile (waiting, and saying so in ``log``, while another process holds it)."""

        def waiting(holder: str) -> None:
            if log:
                log.info("Waiting for the working database: %s is writing it", holder)

        with writer_lock(self.paths.writer_lock_path, timeout_s=self.writer_wait_minutes * 60, on_wait=waiting):
            with connect(self.paths.working_path) as con:
                yield con
