"""Publishing the analysts' snapshot, `survey sql`, the writer lock and what `survey run` skips; plain
functions called directly (the guarantees with real, concurrent processes are in test_concurrent_access)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import duckdb
import pytest
from typer.testing import CliRunner

from home.landing import scan_landing
from home.settings import PROJECT_ROOT, SurveyHome
from home.staleness import stale_waves
from pipelines.cli import app
from schemas.reference import TrustResolver, load_trusts
from tests.conftest import SURVEY_ID, read_sample, write_csv
from validation.engine import validate_wave
from warehouse.analyst_queries import QueryRefused, check_read_only, run_query
from warehouse.benchmarks import write_trust_benchmarks
from warehouse.breakdowns import compute_indicator_breakdowns, compute_trust_coverage
from warehouse.connection import connect, read_sql, replace_wave_rows
from warehouse.dictionary import published_tables
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.indicators import compute_headline_indicators, write_headline_indicators
from warehouse.load import load_wave
from warehouse.pseudonyms import Pseudonymiser
from warehouse.publication import PublishFailed, publish_snapshot, published_wave_sources
from warehouse.writer_lock import WarehouseBusy, writer_lock

SECRET_TRUST = "ZZ-NOT-A-TRUST-7731"
SECRET_COMMENT = "Our chair Jo Bloggs told me privately that the board is split"


@pytest.fixture()
def working(tmp_path, codebook, resolver):
    """A working database holding wave 2023 with one refused row and one free-text comment."""
    rows = read_sample("2023")
    rows.loc[4, "trust_code"] = SECRET_TRUST
    rows.loc[7, "comments"] = SECRET_COMMENT
    path = write_csv(rows, tmp_path / "landing" / "wave.csv")
    validation = validate_wave([path], codebook, "2023", resolver)
    with connect(tmp_path / "working" / "improvement-journey" / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, "2023", validation, run_id="run-load", pseudonymise=PSEUDONYMISE)
        write_wave_results(con, codebook)
        yield con, validation, path


PSEUDONYMISE = Pseudonymiser(b"a key for tests only, 32 bytes..")


def write_wave_results(con, codebook, wave_id: str = "2023") -> None:
    """What a refresh computes from a loaded wave: its indicators, breakdowns, trust coverage and benchmarks."""
    indicators = compute_headline_indicators(con, SURVEY_ID, wave_id, codebook.reporting)
    write_headline_indicators(con, SURVEY_ID, wave_id, indicators)
    replace_wave_rows(con, "indicator_breakdowns", SURVEY_ID, wave_id,
                      compute_indicator_breakdowns(con, SURVEY_ID, wave_id, codebook.reporting))
    replace_wave_rows(con, "trust_coverage", SURVEY_ID, wave_id, compute_trust_coverage(con, SURVEY_ID, wave_id))
    write_trust_benchmarks(con, codebook, wave_id)


def reload_first_rows(con, codebook, tmp_path, rows: int, wave_id: str = "2023") -> None:
    """Load the wave again from a file of only its first ``rows`` respondents, with its results."""
    path = write_csv(read_sample(wave_id).head(rows), tmp_path / "reloaded" / wave_id / "wave.csv")
    validation = validate_wave([path], codebook, wave_id, TrustResolver(load_trusts()))
    load_wave(con, codebook, wave_id, validation, run_id=f"run-reload-{wave_id}", pseudonymise=PSEUDONYMISE)
    write_wave_results(con, codebook, wave_id)


def table_contents(path, table: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as snap:
        return sorted(snap.execute(f"select * from {table}").fetchall(), key=repr)


def storage_version(path) -> str:
    """The storage format of a DuckDB file, as DuckDB reports it (``v1.4.0+``: readable from DuckDB 1.4 on)."""
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS f (READ_ONLY)", [str(path)])
        return con.execute("select tags['storage_version'] from duckdb_databases() where database_name = 'f'"
                           ).fetchall()[0][0]


def first_snapshot(con, codebook, tmp_path):
    """The analysts' snapshot of the working database, published once (run-1); its path."""
    target = tmp_path / "warehouse" / "survey.duckdb"
    publish_snapshot(con, target, "run-1", "test code", [codebook])
    return target


def test_the_snapshot_holds_what_analysts_may_see_and_nothing_private(working, codebook, tmp_path):
    con, validation, path = working
    target = tmp_path / "warehouse" / "survey.duckdb"
    assert con.execute("select count(*) from private.free_text_responses where text = ?",
                       [SECRET_COMMENT]).fetchall() == [(1,)]
    assert con.execute("select count(*) from private.quarantine where offending_value = ?",
                       [SECRET_TRUST]).fetchall() == [(1,)]

    rows = publish_snapshot(con, target, "run-publish", "test code", [codebook]).rows

    con.execute("CHECKPOINT private")  # the search can see these values: they are in the private file's bytes
    private_raw = (tmp_path / "working" / "improvement-journey" / "private.duckdb").read_bytes()
    assert SECRET_TRUST.encode() in private_raw and b"Jo Bloggs" in private_raw
    for copied in (target, tmp_path / "working" / "improvement-journey" / "survey.duckdb"):  # the snapshot is a copy of the working file
        raw = copied.read_bytes()
        assert SECRET_TRUST.encode() not in raw and b"Jo Bloggs" not in raw, copied  # not even in free blocks
    with duckdb.connect(str(target), read_only=True) as snap:
        tables = {t for (t,) in snap.execute("select table_name from duckdb_tables()").fetchall()}
        assert not tables & {"free_text_responses", "quarantine"}
        assert rows["respondents"] == validation.rows_loaded == snap.execute(
            "select count(*) from respondents").fetchall()[0][0]
        counts = snap.execute("select source_file, rule, column_name, rows_refused from quarantine_counts").fetchall()
        publication = snap.execute(
            "select run_id, wave_id, source_file, sha256, codebook_version, code_version from publications").fetchall()
        keys = snap.execute("select constraint_type from duckdb_constraints() where table_name = 'options'"
                            " and constraint_type = 'PRIMARY KEY'").fetchall()
    assert counts == [("wave.csv", "known_trust_code", "trust_code", 1)]
    assert publication == [("run-publish", "2023", "wave.csv", hashlib.sha256(path.read_bytes()).hexdigest(),
                            codebook.version, "test code")]
    assert keys == [("PRIMARY KEY",)]  # the working tables' keys come along
    # recorded in the working database too, once published
    assert published_wave_sources(con) == {
        (SURVEY_ID, "2023"): {"codebook_version": codebook.version,
                              "files": {"wave.csv": hashlib.sha256(path.read_bytes()).hexdigest()}}}


def test_a_reader_of_the_old_snapshot_keeps_reading_it_after_a_publish(working, codebook, tmp_path):
    con, _, _ = working
    target = first_snapshot(con, codebook, tmp_path)
    reader = duckdb.connect(str(target), read_only=True)
    reload_first_rows(con, codebook, tmp_path, rows=49)
    publish_snapshot(con, target, "run-2", "test code", [codebook])
    assert reader.execute("select count(*) from respondents").fetchall() == [(128,)]  # its own, old file
    reader.close()
    with duckdb.connect(str(target), read_only=True) as fresh:
        assert fresh.execute("select count(*) from respondents").fetchall() == [(49,)]
        assert fresh.execute("select distinct run_id from publications order by 1").fetchall() == [("run-1",), ("run-2",)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["survey.duckdb"]


def test_the_snapshot_is_the_working_file_without_its_bookkeeping(working, codebook, tmp_path):
    """A copy of the working file, not tables inserted again: every published table holds exactly the
    working database's rows, and nothing else of the working file (tables, macros) is left in it."""
    con, _, _ = working
    target = first_snapshot(con, codebook, tmp_path)
    reload_first_rows(con, codebook, tmp_path, rows=60, wave_id="2024")
    publish_snapshot(con, target, "run-2", "test code", [codebook])
    with duckdb.connect(str(target), read_only=True) as snap:
        tables = {t for (t,) in snap.execute("select table_name from duckdb_tables()").fetchall()}
        macros = snap.execute("select function_name from duckdb_functions() where not internal").fetchall()
        waves = snap.execute("select wave_id, count(*) from respondents group by 1 order by 1").fetchall()
        comments = snap.execute("select table_name, column_name, comment from duckdb_columns() "
                                "where comment is null and database_name = current_database()").fetchall()
        published = snap.execute("select run_id, wave_id from publications order by all").fetchall()
    assert tables == {t.name for t in published_tables()}
    assert macros == []
    assert waves == [("2023", 128), ("2024", 60)]  # wave 2023 loaded 129 rows, one quarantined
    assert set(published) == {("run-1", "2023"), ("run-2", "2023"), ("run-2", "2024")}
    assert comments == []
    for table in ["respondents", "responses", "load_log", "headline_indicators", "indicator_breakdowns",
                  "trust_coverage", "trust_benchmark_waves", "waves", "questions", "options", "indicator_trends",
                  "wave_removals"]:
        assert table_contents(target, table) == sorted(con.execute(f"select * from {table}").fetchall(), key=repr), table


def test_the_snapshot_is_written_in_a_storage_format_older_clients_read(working, codebook, tmp_path):
    """DuckDB 1.4 and 1.5 clients cannot read duckdb 2's own format: the working file, and so its copy,
    are written in DuckDB 1.4's."""
    con, _, _ = working
    target = first_snapshot(con, codebook, tmp_path)
    assert con.execute("select tags['storage_version'] from duckdb_databases() where database_name = 'survey'"
                       ).fetchall() == [("v1.4.0+",)]
    assert storage_version(target) == "v1.4.0+"


def test_a_working_database_in_duckdb_2s_format_is_rebuilt_for_older_clients(tmp_path, codebook, old_clients):
    """A home made by an earlier release: its working file in duckdb 2's own format, with the private
    values among its tables. The first writing connection moves them to the private file and rebuilds the
    working file in DuckDB 1.4's format, leaving none of their bytes in it; the DuckDB 1.5 shell then opens
    the snapshot."""
    path = tmp_path / "working" / "improvement-journey" / "survey.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as old:  # duckdb 2's default format, as before
        old.execute(read_sql("schema"))
        old.execute("insert into load_log (survey_id, wave_id, source_file, layout, sha256, size_bytes, rows_read, "
                    "rows_loaded, rows_quarantined, codebook_version, run_id, loaded_at) "
                    "values (?, '2023', 'wave.csv', 'plain_csv', 'x', 1, 2, 1, 1, '1', 'run-old', now())", [SURVEY_ID])
        old.execute("create table free_text_responses (survey_id varchar, wave_id varchar, respondent_id varchar, "
                    "question_id varchar, text varchar)")
        old.execute("insert into free_text_responses values (?, '2023', 'r1', 'comments', ?)", [SURVEY_ID, SECRET_COMMENT])
        old.execute("create table quarantine (survey_id varchar, wave_id varchar, source_file varchar, "
                    "source_row integer, respondent_id varchar, column_name varchar, rule varchar, "
                    "offending_value varchar, kept_source_file varchar, kept_source_row integer, reason varchar, "
                    "run_id varchar)")
        old.execute("insert into quarantine values (?, '2023', 'wave.csv', 6, null, 'trust_code', "
                    "'known_trust_code', ?, null, null, 'a reason', 'run-old')", [SURVEY_ID, SECRET_TRUST])
    assert storage_version(path) == "v2.0.0+"
    rebuilt = []
    with connect(path, rebuild=True, on_rebuild=rebuilt.append) as con:
        assert con.execute("select text, run_id from private.free_text_responses").fetchall() == [
            (SECRET_COMMENT, "run-old")]
        assert con.execute("select offending_value from private.quarantine").fetchall() == [(SECRET_TRUST,)]
        assert con.execute("select count(*) from rebuild_reasons").fetchall() == [(0,)]
    assert rebuilt == [["private values moved to their own file", "written in storage format v2.0.0+"]]
    assert storage_version(path) == "v1.4.0+"
    raw = path.read_bytes()
    assert SECRET_TRUST.encode() not in raw and b"Jo Bloggs" not in raw
    assert old_clients.shell_rows(path, "select wave_id, run_id from load_log") == [["2023", "run-old"]]


def test_a_wave_loaded_again_leaves_no_old_row_in_the_file_analysts_get(working, codebook, tmp_path):
    """The old rows of a wave loaded again stay in the working file's free blocks until it is rebuilt: the
    connection that publishes next rebuilds it (one already open copies it table by table instead), so the
    snapshot, a copy of it, has none of them either."""
    con, _, _ = working
    working_file = tmp_path / "working" / "improvement-journey" / "survey.duckdb"
    target = first_snapshot(con, codebook, tmp_path)
    reload_first_rows(con, codebook, tmp_path, rows=30)
    assert con.execute("select reason from rebuild_reasons").fetchall() == [(f"{SURVEY_ID}/2023 loaded again",)]
    publish_snapshot(con, target, "run-2", "test code", [codebook])  # on the connection that loaded it
    with duckdb.connect(str(target), read_only=True) as snap:
        assert snap.execute("select count(*), count(distinct run_id) from load_log").fetchall() == [(2, 2)]
        assert snap.execute("select count(*) from respondents").fetchall() == [(30,)]
        assert snap.execute("select free_blocks from pragma_database_size()").fetchall() == [(0,)]
    con.close()
    inode = working_file.stat().st_ino
    rebuilt = []
    with connect(working_file, on_rebuild=rebuilt.append) as step:  # a step that does not publish leaves it
        assert step.execute("select count(*) from rebuild_reasons").fetchall() == [(1,)]
    assert rebuilt == [] and working_file.stat().st_ino == inode
    with connect(working_file, rebuild=True, on_rebuild=rebuilt.append) as again:  # the publishing step
        assert again.execute("select free_blocks from pragma_database_size() where database_name = 'survey'"
                             ).fetchall() == [(0,)]
        assert again.execute("select count(*) from rebuild_reasons").fetchall() == [(0,)]
        assert again.execute("select count(*) from respondents").fetchall() == [(30,)]
        publish_snapshot(again, target, "run-3", "test code", [codebook])
    assert rebuilt == [[f"{SURVEY_ID}/2023 loaded again"]] and working_file.stat().st_ino != inode
    assert table_contents(target, "respondents") == table_contents(working_file, "respondents")


def test_a_failed_publish_leaves_the_previous_snapshot_and_says_so(working, codebook, tmp_path):
    con, _, _ = working
    target = first_snapshot(con, codebook, tmp_path)
    before = target.read_bytes()
    con.execute("drop table trust_coverage")  # a working database that lacks a published table
    with pytest.raises(PublishFailed, match="trust_coverage.*previous warehouse is unchanged"):
        publish_snapshot(con, target, "run-2", "test code", [codebook])
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["survey.duckdb"]
    assert con.execute("select distinct run_id from publications").fetchall() == [("run-1",)]


def test_a_wave_loaded_again_without_its_results_is_not_published(working, codebook, tmp_path):
    """A run that stopped after loading a wave, before its indicators: publishing then would show the new
    respondents beside the old figures, and record the wave as published."""
    con, validation, _ = working
    target = first_snapshot(con, codebook, tmp_path)
    before = target.read_bytes()
    load_wave(con, codebook, "2023", validation, run_id="run-reload", pseudonymise=PSEUDONYMISE)
    with pytest.raises(PublishFailed, match="results of improvement-journey/2023 were not computed from its latest load"):
        publish_snapshot(con, target, "run-2", "test code", [codebook])
    assert target.read_bytes() == before
    write_wave_results(con, codebook)  # the refresh completed
    publish_snapshot(con, target, "run-3", "test code", [codebook])
    with duckdb.connect(str(target), read_only=True) as snap:
        assert snap.execute("select distinct run_id from publications order by 1").fetchall() == [("run-1",), ("run-3",)]


def test_a_failure_while_building_the_snapshot_removes_it_and_keeps_the_previous(working, codebook, tmp_path,
                                                                                monkeypatch):
    import warehouse.publication as publication

    con, _, _ = working
    target = first_snapshot(con, codebook, tmp_path)
    before = target.read_bytes()
    monkeypatch.setattr(publication, "comment_statements", lambda *args: ["COMMENT ON TABLE no_such_table IS 'x'"])
    with pytest.raises(PublishFailed, match="no_such_table.*previous warehouse is unchanged"):
        publish_snapshot(con, target, "run-2", "test code", [codebook])
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["survey.duckdb"]
    monkeypatch.undo()
    publish_snapshot(con, target, "run-3", "test code", [codebook])  # the working connection still works
    assert con.execute("select distinct run_id from publications order by 1").fetchall() == [("run-1",), ("run-3",)]


def test_half_built_snapshots_left_by_a_killed_publish_are_removed_by_the_next(working, codebook, tmp_path):
    con, _, _ = working
    target = tmp_path / "warehouse" / "survey.duckdb"
    target.parent.mkdir(parents=True)
    (target.parent / ".survey.duckdb.dead-run.tmp").write_bytes(b"half a file")
    (target.parent / ".survey.duckdb.dead-run.tmp.wal").write_bytes(b"half a log")
    publish_snapshot(con, target, "run-1", "test code", [codebook])
    assert sorted(p.name for p in target.parent.iterdir()) == ["survey.duckdb"]


@pytest.mark.parametrize("query", [
    "insert into waves select * from waves",
    "delete from respondents",
    "copy respondents to '/tmp/out.csv'",
    "attach '/tmp/other.duckdb' as other",
    "create table mine as select 1",
    "select 1; drop table waves",
    "install httpfs",
    "create table mine as pivot waves on wave_id using count(*)",  # a MULTI statement, as a PIVOT is
    "insert into waves pivot waves on wave_id using count(*)",
])
def test_statements_that_write_are_refused_before_they_run(query):
    with pytest.raises(QueryRefused):
        check_read_only(query)


@pytest.mark.parametrize("query", ["select 1", "describe respondents", "show tables", "summarize waves",
                                   "from waves", "explain select 1", "pragma table_info('waves')",
                                   "pivot waves on wave_id using count(*)",
                                   "-- a crosstab\nPIVOT waves on wave_id using count(*) group by synthetic"])
def test_reading_statements_are_accepted(query):
    check_read_only(query)


def test_survey_sql_prints_tables_csv_and_json_and_refuses_writes(demo_run):
    runner = CliRunner()
    query = ("select wave_id, count(*) as respondents from respondents where survey_id = 'improvement-journey' "
             "group by all order by 1")
    as_json = runner.invoke(app, ["sql", query, "--home", str(demo_run.home), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == [{"wave_id": "2023", "respondents": 129},
                                          {"wave_id": "2024", "respondents": 142},
                                          {"wave_id": "2025", "respondents": 118}]
    as_csv = runner.invoke(app, ["sql", query, "--home", str(demo_run.home), "--format", "csv"])
    assert as_csv.output.splitlines() == ["wave_id,respondents", "2023,129", "2024,142", "2025,118"]
    as_table = runner.invoke(app, ["sql", query, "--home", str(demo_run.home)])
    assert as_table.output.split()[:2] == ["wave_id", "respondents"] and "2025" in as_table.output
    refused = runner.invoke(app, ["sql", "delete from respondents", "--home", str(demo_run.home)], terminal_width=200)
    assert refused.exit_code == 2 and "REFUSED: DELETE statements are refused" in refused.output
    outside = runner.invoke(app, ["sql", "select * from read_csv('/etc/hostname')", "--home", str(demo_run.home)])
    assert outside.exit_code == 1 and "SQL ERROR" in outside.output
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from respondents where survey_id = 'improvement-journey'").fetchall() == [(389,)]


def test_survey_sql_without_a_warehouse_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `survey run`"):
        run_query(tmp_path / "warehouse" / "survey.duckdb", "select 1")


HOLD_LOCK = """
import sys, time
from pathlib import Path
from warehouse.writer_lock import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_writer_lock_makes_others_wait_and_dies_with_its_holder(tmp_path):
    lock = tmp_path / "working" / "writer.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        told = []
        with pytest.raises(WarehouseBusy, match=f"pid {holder.pid}"):
            with writer_lock(lock, timeout_s=0.3, on_wait=told.append):
                pass
        assert told and f"pid {holder.pid}" in told[0]
    finally:
        holder.kill()  # SIGKILL: no chance to release anything itself
        holder.wait()
    started = time.monotonic()
    with writer_lock(lock, timeout_s=5):
        with writer_lock(lock, timeout_s=0):  # re-entrant within a process
            pass
    assert time.monotonic() - started < 5


def test_landed_files_are_read_for_their_fingerprint_only_when_it_is_needed(tmp_path, codebook):
    home = SurveyHome(tmp_path)
    wave_file = write_csv(read_sample("2023"), home.wave_dir(SURVEY_ID, "2023") / "wave.csv")
    cache = {}
    [wave] = scan_landing(home.landing_dir, cache)
    assert [s.wave for s in stale_waves(home, [wave], {})] == [wave]  # never published: stale unread
    assert cache == {}

    sha = hashlib.sha256(wave_file.read_bytes()).hexdigest()
    digest = codebook.digest_for("2023")
    trusts = hashlib.sha256((PROJECT_ROOT / "schemas" / "reference" / "nhs_trusts_england.csv").read_bytes()).hexdigest()
    [stale] = stale_waves(home, [wave], {(SURVEY_ID, "2023"): "0" * 64})
    assert stale.fingerprint == hashlib.sha256(
        f"wave.csv:{sha}\nwave.yaml:-\ncodebook:{digest}\ntrusts:{trusts}\n".encode()).hexdigest()
    assert cache[str(wave_file)][2] == sha
    assert stale_waves(home, [wave], {(SURVEY_ID, "2023"): stale.fingerprint}) == []
    # the next scan trusts the cache while the size and modification time are the same
    cache[str(wave_file)][2] = "f" * 64
    [again] = scan_landing(home.landing_dir, cache)
    [restale] = stale_waves(home, [again], {(SURVEY_ID, "2023"): stale.fingerprint})
    assert restale.fingerprint == hashlib.sha256(
        f"wave.csv:{'f' * 64}\nwave.yaml:-\ncodebook:{digest}\ntrusts:{trusts}\n".encode()).hexdigest()


def test_the_latest_publication_says_what_analysts_have(working, codebook, tmp_path):
    """`survey run` skips a wave only if the latest publication, not an earlier one, holds its files."""
    con, validation, _ = working
    target = first_snapshot(con, codebook, tmp_path)
    first = published_wave_sources(con)
    corrected = validation.files[0].__class__(**{**validation.files[0].__dict__, "name": "corrected.csv",
                                                 "sha256": "c" * 64})
    load_wave(con, codebook, "2023", validation.__class__(validation.staged, validation.quarantine, (corrected,)),
              run_id="run-corrected", pseudonymise=PSEUDONYMISE)
    write_wave_results(con, codebook)
    assert published_wave_sources(con) == first  # loaded, not yet published
    publish_snapshot(con, target, "run-2", "test code", [codebook])
    assert published_wave_sources(con)[(SURVEY_ID, "2023")]["files"] == {"corrected.csv": "c" * 64}
