"""Shared fixtures: the bundled codebook, the trust list, wave files written to temporary folders,
and one full `survey demo` run on a temporary home that several test modules read."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from home.settings import SurveyHome
from pipelines.cli import app
from sample_data.generator import LANDING_DIR
from schemas.codebook import Codebook
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.reference import TrustResolver, load_trusts
from warehouse.pseudonyms import Pseudonymiser, respondent_key

SURVEY_ID = "improvement-journey"
# Tests write a landed file and run at once; waiting for files to settle (home.settling) has tests of its
# own, which set the wait they need. Subprocesses inherit it (tests.processes.survey_env).
os.environ.setdefault("SURVEY_SETTLE_SECONDS", "0")
# Printing the brief takes headless Chromium a few seconds a pack; the tests of the brief and the demo
# fixture they read print it (SURVEY_BRIEF_PDF=true), the many other runs of the suite do not.
os.environ.setdefault("SURVEY_BRIEF_PDF", "false")


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook(BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml")


@pytest.fixture(scope="session")
def trust_codes() -> list[str]:
    return load_trusts()["ods_code"].tolist()


@pytest.fixture(scope="session")
def resolver() -> TrustResolver:
    return TrustResolver(load_trusts())


@pytest.fixture(scope="session")
def pseudonymise() -> Pseudonymiser:
    return Pseudonymiser(b"a key for tests only, 32 bytes..")


def sample_wave_path(wave_id: str) -> Path:
    return LANDING_DIR / SURVEY_ID / wave_id / f"{SURVEY_ID}_{wave_id}_SYNTHETIC.csv"


def read_sample(wave_id: str) -> pd.DataFrame:
    """A bundled wave as text cells, exactly as a survey team would deliver it."""
    return pd.read_csv(sample_wave_path(wave_id), dtype=str, keep_default_na=False, na_values=[""])


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


@pytest.fixture(autouse=True)
def _isolated_dagster_home(tmp_path_factory, monkeypatch):
    """No test may write into a developer's own Dagster or survey home."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))
    monkeypatch.setenv("SURVEY_HOME", str(tmp_path_factory.mktemp("survey_home")))


@dataclass(frozen=True)
class DemoRun:
    home: Path
    output: str

    @property
    def warehouse(self) -> Path:
        """The analysts' published snapshot."""
        return SurveyHome(self.home).warehouse_path

    @property
    def working(self) -> Path:
        """The bundled board survey's working database (free text and quarantine included)."""
        return SurveyHome(self.home).working_path(SURVEY_ID)

    def working_of(self, survey_id: str) -> Path:
        """A survey's working database."""
        return SurveyHome(self.home).working_path(survey_id)

    def pseudonym(self, respondent_id: str) -> str:
        """The pseudonym the demo run gave a respondent id, with the key it created in its home."""
        return Pseudonymiser(respondent_key(self.home / "secrets" / "respondent.key"))(SURVEY_ID, respondent_id)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """A home after `survey demo`: the bundled sample run through real Dagster runs."""
    home = tmp_path_factory.mktemp("demo_home")
    saved = os.environ.get("DAGSTER_HOME")
    # The brief printed, as a user's demo prints it: the tests of the brief read this PDF.
    result = CliRunner().invoke(app, ["demo", "--home", str(home)], terminal_width=200, env={"SURVEY_BRIEF_PDF": "true"})
    if saved is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = saved
    assert result.exit_code == 0, result.output + repr(result.exception)
    return DemoRun(home, result.output)


@pytest.fixture(scope="session")
def old_clients():
    """The older DuckDB clients analysts use (the 1.5 shell, Python's duckdb 1.4), from `make clients`."""
    from tests.old_clients import find_old_clients

    return find_old_clients()


def personal_values_in(warehouse: Path, values: set[str], whole_cells: set[str] = frozenset()) -> list[str]:
    """Every table.column of the warehouse file with a cell containing any of ``values`` (inside a reason
    or a sentence too) or equal to one of ``whole_cells`` (short values, such as a first name, that
    ordinary words contain); also scans the file's raw bytes for emails."""
    import duckdb

    found = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name from duckdb_columns() where not internal and data_type = 'VARCHAR'"
        ).fetchall()
        con.register("personal_values", pd.DataFrame({"value": sorted(values)}))
        con.register("personal_cells", pd.DataFrame({"value": sorted(whole_cells)}, dtype=object))
        for table, column in columns:
            hits = con.execute(
                f'select count(*) from "{table}" as t join personal_values as p on contains(t."{column}", p.value)'
            ).fetchone()[0]
            hits += con.execute(
                f'select count(*) from "{table}" where "{column}" in (select value from personal_cells)').fetchone()[0]
            if hits:
                found.append(f"{table}.{column}")
    raw = warehouse.read_bytes()
    found += [f"raw bytes: {v}" for v in values if "@" in v and v.encode() in raw]
    return found


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server's URL: CI's (`.ci/run` starts it), or a throwaway cluster started here."""
    import subprocess
    import tempfile

    from tests import postgres

    if os.environ.get(postgres.URL_ENV):
        yield os.environ[postgres.URL_ENV]
        return
    root = Path(tempfile.mkdtemp(prefix="survey-pg-"))  # beside /tmp, where the postgres user may go
    try:
        cluster = postgres.Cluster(root)
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        if os.environ.get(postgres.REQUIRE_ENV):
            raise
        pytest.skip(f"no PostgreSQL to test against: {exc}")
    yield cluster.url
    cluster.stop()
    subprocess.run(["rm", "-rf", str(root)], check=False)
