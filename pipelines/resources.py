"""Dagster resources: the survey home (landing folder, codebooks, reference data and warehouse file).

A resource of our own rather than dagster-duckdb's ``DuckDBResource``: the pipeline decides where the
warehouse lives and when it is opened (never at definitions load), which later lets the home publish a
read-only copy for analysts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from pipelines.settings import DEFAULT_MAX_FILE_MB, SurveyHome
from schemas.pseudonyms import Pseudonymiser, respondent_key
from schemas.reference import TrustResolver, load_trusts
from warehouse.connection import connect


class SurveyHomeResource(dg.ConfigurableResource):
    """The folder holding a survey home's landing folder, warehouse and Dagster instance."""

    home: str
    max_file_mb: int = DEFAULT_MAX_FILE_MB  # a landed file larger than this is refused whole

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

    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection to the warehouse, opened for one step and closed after it."""
        with connect(self.paths.warehouse_path) as con:
            yield con
