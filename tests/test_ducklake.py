"""The DuckLake prototype: with the DuckLake settings, `survey run` also publishes each survey into a DuckLake whose
catalog is in PostgreSQL, one schema per survey, with exactly the rows of the analysts' DuckDB warehouse; two surveys
publish into it at once without conflict; a later publication replaces a survey's tables in one transaction, and
the lake's history still shows the survey as it was (time travel).

The lake is read back by the DuckLake side environment's DuckDB 1.5.5 (``make ducklake``), as an analyst's client
would, never by the project's own duckdb, which cannot load the extension."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from home.settings import PROJECT_ROOT
from sample_data.generator import LANDING_DIR
from tests import postgres
from tests.conftest import SURVEY_ID
from tests.processes import run_survey, survey_env
from warehouse.ducklake_publication import WRITER, publish_to_ducklake

pytestmark = pytest.mark.processes
STAFF = "staff-pulse"
SIDE_PYTHON = PROJECT_ROOT / ".venv-ducklake" / "bin" / "python"
REQUIRE_ENV = "SURVEY_REQUIRE_DUCKLAKE"

# Run by the side environment's Python: for each survey schema of the lake and each of its tables, the rows the lake
# has that the DuckDB warehouse has not for that survey, and the other way round; and the lake's snapshots.
COMPARE = r"""
import json, sys
from pathlib import Path
writer, catalog, data, warehouse, version = sys.argv[1:6]
sys.path.insert(0, writer)
from ducklake_writer import attach_lake, connect
con = connect()
attach_lake(con, catalog, Path(data), read_only=True)
con.execute(f"ATTACH '{warehouse}' AS warehouse (READ_ONLY)")
out = {"differences": {}, "snapshots": con.execute("SELECT count(*) FROM lake.snapshots()").fetchone()[0],
       "latest": con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]}
tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'lake'").fetchall()
for schema, table in tables:
    has_survey = con.execute("SELECT count(*) FROM duckdb_columns() WHERE database_name = 'warehouse' "
                             "AND table_name = ? AND column_name = 'survey_id'", [table]).fetchone()[0]
    ours = f'warehouse.main."{table}"' + (f" WHERE survey_id = '{schema}'" if has_survey else "")
    lake = f'lake."{schema}"."{table}"'
    missing = con.execute(f"SELECT count(*) FROM (FROM {ours} EXCEPT ALL FROM {lake})").fetchone()[0]
    extra = con.execute(f"SELECT count(*) FROM (FROM {lake} EXCEPT ALL FROM {ours})").fetchone()[0]
    out["differences"][f"{schema}.{table}"] = [missing, extra]
if version != "-":
    out["respondents_then"] = dict(con.execute(
        f"SELECT wave_id, count(*) FROM lake.\"{SURVEY}\".respondents AT (VERSION => {int(version)}) GROUP BY ALL"
    ).fetchall())
    # What DuckLake's own change feed says was written into the tables filled by wave since then.
    latest = out["latest"]
    out["inserted_since"], out["deleted_since"] = {}, {}
    for table in ("respondents", "respondent_fields", "responses"):
        changes = ["{SURVEY}", table, int(version), latest]
        out["inserted_since"][table] = dict(con.execute(
            "SELECT wave_id, count(*) FROM ducklake_table_insertions('lake', ?, ?, ?, ?) GROUP BY ALL",
            changes).fetchall())
        out["deleted_since"][table] = con.execute(
            "SELECT count(*) FROM ducklake_table_deletions('lake', ?, ?, ?, ?)", changes).fetchone()[0]
# The Parquet files the lake's current snapshot uses (data and delete files), every table of every survey.
out["files_in_use"] = sorted({path for schema, table in tables for row in con.execute(
    "SELECT data_file, delete_file FROM ducklake_list_files('lake', ?, schema => ?)", [table, schema]).fetchall()
    for path in row if path is not None})
print(json.dumps(out))
""".replace("{SURVEY}", SURVEY_ID)


@pytest.fixture(scope="module")
def side_python() -> Path:
    if SIDE_PYTHON.exists():
        return SIDE_PYTHON
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{REQUIRE_ENV} is set but the DuckLake side environment is not in {SIDE_PYTHON.parents[1]}: "
                    "run `make ducklake`")
    pytest.skip("the DuckLake side environment is not installed (`make ducklake`; CI requires it)")


def _catalog(server_url: str) -> str:
    """The DuckLake catalog string of a fresh database on the server."""
    url = urlsplit(postgres.new_database(server_url).replace("postgresql+psycopg2://", "postgresql://", 1))
    return f"postgres:dbname={url.path.lstrip('/')} host={url.hostname} port={url.port} user={url.username}"


def _compare(side_python: Path, catalog: str, data: Path, warehouse: Path, version: int | None = None) -> dict:
    done = subprocess.run([str(side_python), "-c", COMPARE, str(WRITER.parent), catalog, str(data), str(warehouse),
                           "-" if version is None else str(version)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _land(home: Path, survey_id: str, wave_id: str) -> None:
    shutil.copytree(LANDING_DIR / survey_id / wave_id, home / "landing" / survey_id / wave_id)


def test_each_survey_is_published_into_the_ducklake_with_the_warehouses_rows(side_python, postgres_server, tmp_path):
    catalog, data = _catalog(postgres_server), tmp_path / "lake"
    env = survey_env(SURVEY_SETTLE_SECONDS="0", SURVEY_BRIEF_PDF="false", SURVEY_DUCKLAKE_CATALOG=catalog,
                     SURVEY_DUCKLAKE_DATA_PATH=str(data), SURVEY_DUCKLAKE_PYTHON=str(side_python))
    home = tmp_path / "home"
    for survey_id, wave_id in ((SURVEY_ID, "2023"), (SURVEY_ID, "2024"), (STAFF, "2025Q4")):
        _land(home, survey_id, wave_id)

    first = run_survey(home, "run", env=env)

    assert first.returncode == 0, first.stdout + first.stderr
    warehouse = home / "warehouse" / "survey.duckdb"
    lake = _compare(side_python, catalog, data, warehouse)
    assert {key.split(".")[0] for key in lake["differences"]} == {SURVEY_ID, STAFF}  # a schema per survey
    assert f"{STAFF}.respondents" in lake["differences"] and f"{SURVEY_ID}.headline_indicators" in lake["differences"]
    assert all(d == [0, 0] for d in lake["differences"].values()), lake["differences"]
    since = lake["latest"] + 1  # the first snapshot after this publication

    # Two surveys publishing into the lake at once: different schemas, no conflict, neither lost.
    outcomes = {}

    def publish(survey_id: str) -> None:
        outcomes[survey_id] = publish_to_ducklake(home / "warehouse" / "surveys" / f"{survey_id}.duckdb", survey_id,
                                                  side_python, catalog, data)

    threads = [threading.Thread(target=publish, args=(s,)) for s in (SURVEY_ID, STAFF)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {s: o["attempts"] for s, o in outcomes.items()} == {SURVEY_ID: 1, STAFF: 1}
    assert all(d == [0, 0] for d in _compare(side_python, catalog, data, warehouse)["differences"].values())

    # A new wave: the survey's tables replaced in one transaction; the lake still has the survey as it was.
    _land(home, SURVEY_ID, "2025")
    again = run_survey(home, "run", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    lake = _compare(side_python, catalog, data, warehouse, version=since)
    assert all(d == [0, 0] for d in lake["differences"].values()), lake["differences"]
    assert set(lake["respondents_then"]) == {"2023", "2024"}
    # Since then (each survey's snapshot published again unchanged, then the new wave's), the respondents and answers
    # written into the lake are the new wave's alone, each once; no other wave's rows were deleted or written again.
    assert lake["inserted_since"] == {t: {"2025": n} for t, n in _wave_rows(warehouse, "2025").items()}
    assert lake["deleted_since"] == dict.fromkeys(CHANGE_FEED_TABLES, 0)

    # A wave loaded again from a corrected file: that wave's rows are deleted and written again, no other's.
    corrected = next((home / "landing" / SURVEY_ID / "2024").glob("*.csv"))
    lines = corrected.read_text(encoding="utf-8").splitlines(keepends=True)
    corrected.write_text("".join(lines[:-1]), encoding="utf-8")  # the last respondent left out
    old_2024 = _wave_rows(warehouse, "2024")
    reloaded = run_survey(home, "run", env=env)
    assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
    lake = _compare(side_python, catalog, data, warehouse, version=lake["latest"] + 1)
    assert all(d == [0, 0] for d in lake["differences"].values()), lake["differences"]
    new_2024 = _wave_rows(warehouse, "2024")
    assert new_2024["respondents"] == old_2024["respondents"] - 1
    assert lake["inserted_since"] == {t: {"2024": n} for t, n in new_2024.items()}
    assert lake["deleted_since"] == old_2024

    # A wave withdrawn: its rows, and only those, are deleted from the lake's tables filled by wave; nothing is written.
    withdrawn = _wave_rows(warehouse, "2023")
    removed = run_survey(home, "wave", "remove", SURVEY_ID, "2023", "--yes", env=env)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    after = _compare(side_python, catalog, data, warehouse, version=lake["latest"] + 1)
    assert all(d == [0, 0] for d in after["differences"].values()), after["differences"]
    assert after["inserted_since"] == dict.fromkeys(CHANGE_FEED_TABLES, {})
    assert after["deleted_since"] == withdrawn

    # With SURVEY_DUCKLAKE_KEEP_DAYS, the snapshots older than that are expired after the publication, and of the
    # Parquet files on the disk only those the lake's current snapshot uses are left; the survey is whole in the lake.
    assert set(map(str, data.rglob("*.parquet"))) > set(after["files_in_use"])  # replaced files kept so far
    forced = run_survey(home, "run", "--force", env={**env, "SURVEY_DUCKLAKE_KEEP_DAYS": "0"})
    assert forced.returncode == 0, forced.stdout + forced.stderr
    kept = _compare(side_python, catalog, data, warehouse)
    assert all(d == [0, 0] for d in kept["differences"].values()), kept["differences"]
    assert kept["snapshots"] == 1 < after["snapshots"]
    assert sorted(map(str, data.rglob("*.parquet"))) == kept["files_in_use"]


CHANGE_FEED_TABLES = ("respondents", "respondent_fields", "responses")  # as COMPARE reads them


def _wave_rows(warehouse: Path, wave_id: str) -> dict[str, int]:
    """The board survey's rows of one wave in each table COMPARE reads the change feed of, in the analysts' file."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t} WHERE survey_id = ? AND wave_id = ?",
                               [SURVEY_ID, wave_id]).fetchone()[0] for t in CHANGE_FEED_TABLES}


def test_the_waves_written_again_are_those_loaded_since_and_the_removed_those_withdrawn():
    from warehouse.ducklake_writer import changed_waves

    before = {"2023": "run-a", "2024": "run-b", "2025": "run-c"}
    now = {"2024": "run-b", "2025": "run-d", "2026": "run-e"}  # 2023 withdrawn, 2025 loaded again, 2026 new
    assert changed_waves(now, before) == (["2025", "2026"], ["2023"])
    assert changed_waves(before, before) == ([], [])
    assert changed_waves(now, {}) == (["2024", "2025", "2026"], [])  # a lake with no load log yet


def test_a_message_quoting_the_catalog_names_its_variable_and_hides_any_password():
    from warehouse.ducklake_publication import _without_catalog

    catalog = "postgres:dbname=lake host=db user=survey password=s3cret"
    lines = [
        f'Unable to connect to Postgres at "{catalog.split(":", 1)[1]}": timeout',  # as the extension quotes it
        f"cannot attach ducklake:{catalog}",
        "connection to postgresql://survey:s3cret@db:5432/lake failed",
        "password = 's3cret' was refused",
    ]
    shown = [_without_catalog(line, catalog) for line in lines]
    assert not [line for line in shown if "s3cret" in line], shown
    assert "$SURVEY_DUCKLAKE_CATALOG" in shown[0] and "$SURVEY_DUCKLAKE_CATALOG" in shown[1]


def test_a_lake_that_cannot_be_reached_fails_the_publication_in_one_line_without_the_catalog(side_python, tmp_path,
                                                                                            demo_run):
    catalog = "postgres:dbname=nowhere host=127.0.0.1 port=1 user=survey password=not-to-be-shown"
    from warehouse.ducklake_publication import DuckLakeFailed

    with pytest.raises(DuckLakeFailed) as failed:
        publish_to_ducklake(demo_run.home / "warehouse" / "surveys" / f"{SURVEY_ID}.duckdb", SURVEY_ID, side_python,
                            catalog, tmp_path / "lake")
    message = str(failed.value)
    assert message.startswith(f"{SURVEY_ID} not published into the DuckLake: ") and "\n" not in message
    assert "not-to-be-shown" not in message


def test_the_lake_writer_gets_only_what_libpq_needs_of_the_environment(tmp_path, monkeypatch):
    """The writer process is given the catalog, libpq's PG* variables and the few a process needs, never the pseudonym
    key or the other settings. The program run in the writer's place here prints the environment it was given."""
    probe = tmp_path / "probe"
    probe.write_text("#!/bin/sh\nexec python3 -c 'import json, os; print(json.dumps(dict(os.environ)))'\n")
    probe.chmod(0o755)
    monkeypatch.setenv("SURVEY_RESPONDENT_KEY", "a key the writer must never see")
    monkeypatch.setenv("SURVEY_DUCKDB_MEMORY_MB", "512")
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not for the writer either")
    given = publish_to_ducklake(tmp_path / "snapshot.duckdb", SURVEY_ID, probe, "postgres:dbname=lake", tmp_path / "data")
    assert given["SURVEY_DUCKLAKE_CATALOG"] == "postgres:dbname=lake"
    assert given["PGPASSFILE"] == str(tmp_path / "pgpass") and "PATH" in given
    assert not {k for k in given if k.startswith("SURVEY_")} - {"SURVEY_DUCKLAKE_CATALOG"}
    assert "AWS_SECRET_ACCESS_KEY" not in given
