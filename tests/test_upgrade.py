"""A home made by an earlier release keeps working: its working database is migrated at the first run of this
one, and its figures do not change. A home made since the codebook's digest left defaults out loads nothing
again; one made before it (the release before codebook version 2) loads its wave again from its landed file,
and says why in the wave's one line (``tests/homes/README.md`` says how the homes were made)."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.conftest import SURVEY_ID, read_sample, sample_wave_path
from warehouse.connection import connect

HOMES = Path(__file__).parent / "homes"
ARCHIVED = HOMES / "release-7f79b07.tar.gz"
BEFORE_CODEBOOK_V2 = HOMES / "release-903d46e.tar.gz"
KEY = "upgrade-test-key-0123456789abcdef"  # the key the home was made with


def _unpack(archived: Path, tmp_path: Path, monkeypatch) -> Path:
    with tarfile.open(archived) as archive:
        archive.extractall(tmp_path, filter="data")
    wave = tmp_path / "landing" / SURVEY_ID / "2023"
    wave.mkdir(parents=True)
    shutil.copy2(sample_wave_path("2023"), wave / sample_wave_path("2023").name)
    monkeypatch.setenv("SURVEY_RESPONDENT_KEY", KEY)
    return tmp_path


@pytest.fixture()
def home(tmp_path, monkeypatch):
    return _unpack(ARCHIVED, tmp_path, monkeypatch)


def _storage_and_tables(path: Path) -> tuple[str, set[str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        version = con.execute("select tags['storage_version'] from duckdb_databases() "
                              "where database_name = current_database()").fetchone()[0]
        return version, {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}


def _figures(home: Path, working: Path | None = None) -> list[tuple]:
    with connect(working or home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        return con.execute("select indicator_id, numerator, base, pct, ci_low, ci_high, suppressed from "
                           "headline_indicators where wave_id = '2023' order by indicator_id").fetchall()


def test_a_home_of_the_previous_release_is_migrated_and_its_figures_kept(home):
    # The release kept one working database for every survey; this one keeps one per survey.
    shared = home / "working" / "survey.duckdb"
    working = home / "working" / "improvement-journey" / "survey.duckdb"
    version, tables = _storage_and_tables(shared)
    assert version == "v2.0.0+" and {"quarantine", "free_text_responses", "snapshot_files"} <= tables
    before = _figures(home, shared)
    comments = sorted(read_sample("2023")["comments"].dropna())

    first = CliRunner().invoke(app, ["run", "--home", str(home)])

    assert first.exit_code == 0, first.output
    assert f"{SURVEY_ID}/2023: up to date" in first.output  # nothing loaded again
    assert not shared.exists() and not (home / "working" / "private.duckdb").exists()  # split, then removed
    _, tables = _storage_and_tables(working)
    assert not tables & {"quarantine", "free_text_responses", "cleaning_log", "snapshot_files"}
    assert {"numeric_responses", "trust_mean_sums", "rebuild_reasons"} <= tables
    with connect(working, read_only=True) as con:
        moved = con.execute("select text, run_id from private.free_text_responses").fetchall()
        latest = con.execute("select distinct run_id from load_log").fetchall()
        reasons = con.execute("select reason from rebuild_reasons").fetchall()
    assert sorted(t for t, _ in moved) == comments and {r for _, r in moved} == {r for (r,) in latest}
    # Published at once as the survey's own snapshot (the release had none): rebuilt first, as the split and the
    # move asked, so no free block of the copy holds what they deleted.
    assert reasons == [] and (home / "warehouse" / "surveys" / f"{SURVEY_ID}.duckdb").is_file()
    assert f"{SURVEY_ID}: trends, analysts' warehouse and pack: ok" in first.output
    with connect(working, read_only=True) as con:  # the one respondent field, a column before, has its table
        columns = {c for (c,) in con.execute("select column_name from duckdb_columns() where table_name = 'respondents'").fetchall()}
        roles = con.execute("select field_id, count(*) from respondent_fields group by all").fetchall()
    assert "role" not in columns and roles == [("role", len(read_sample("2023")))]
    assert _figures(home) == before

    again = CliRunner().invoke(app, ["run", "--home", str(home), "--force"])  # loaded and published anew

    assert again.exit_code == 0, again.output
    assert f"{SURVEY_ID}/2023: ok" in again.output
    version, _ = _storage_and_tables(working)
    assert version == "v1.4.0+"  # rebuilt for the analysts' clients, of which the snapshot is now a copy
    assert not any(c.encode() in working.read_bytes() for c in comments)  # not even in its free blocks
    assert _figures(home) == before  # the same figures from today's code
    with duckdb.connect(str(home / "warehouse" / "survey.duckdb"), read_only=True) as snap:
        assert snap.execute("select count(*) from respondents").fetchone()[0] == len(read_sample("2023"))


def test_a_home_of_the_release_before_codebook_version_2_loads_its_wave_again_saying_why(tmp_path, monkeypatch):
    home = _unpack(BEFORE_CODEBOOK_V2, tmp_path, monkeypatch)
    before = _figures(home, home / "working" / "survey.duckdb")
    assert len(before) > 27  # the board survey's published figures among them

    first = CliRunner().invoke(app, ["run", "--home", str(home)])

    assert first.exit_code == 0, first.output
    reloaded = [line for line in first.output.splitlines() if line.startswith(f"{SURVEY_ID}/2023: ok")]
    assert len(reloaded) == 1 and "loaded again: its exports are as published" in reloaded[0], first.output
    assert "or how this release reads them (an upgrade)" in reloaded[0]
    assert _figures(home) == before  # the same figures from today's code, loaded again from the same file

    again = CliRunner().invoke(app, ["run", "--home", str(home)])

    assert again.exit_code == 0 and f"{SURVEY_ID}/2023: up to date" in again.output, again.output


def test_a_wave_whose_export_changed_says_so_when_it_is_loaded_again(home):
    assert CliRunner().invoke(app, ["run", "--home", str(home)]).exit_code == 0
    export = home / "landing" / SURVEY_ID / "2023" / sample_wave_path("2023").name
    rows = export.read_text(encoding="utf-8").splitlines(keepends=True)
    export.write_text("".join(rows[:-1]), encoding="utf-8")  # the last respondent taken out

    result = CliRunner().invoke(app, ["run", "--home", str(home)])

    assert result.exit_code == 0, result.output
    assert f"{SURVEY_ID}/2023: ok" in result.output
    assert "loaded again: its exports differ from those published" in result.output


def test_each_reason_for_loading_a_wave_again_is_told_only_when_it_holds(tmp_path):
    """``why_loaded_again`` branch by branch, on a landed file whose sha256 is worked out here."""
    import hashlib

    from home.landing import LandedWave
    from home.staleness import StaleWave, why_loaded_again

    export = tmp_path / "wave.csv"
    export.write_bytes(b"respondent_id\nr1\n")
    as_landed = {("wave.csv", hashlib.sha256(b"respondent_id\nr1\n").hexdigest())}
    stale = StaleWave(LandedWave(SURVEY_ID, "2023", (export,)), "codebook digest", published="an older fingerprint")

    assert why_loaded_again(stale, loaded_before=False, in_publication=False, published_exports=set()) is None
    assert "loaded but is not in the analysts' warehouse" in why_loaded_again(stale, True, in_publication=False, published_exports=set())
    never_fingerprinted = StaleWave(stale.wave, "codebook digest", published=None)
    assert "published before this release recorded" in why_loaded_again(never_fingerprinted, True, True, as_landed)
    assert why_loaded_again(stale, True, True, {("wave.csv", "0" * 64)}) == "its exports differ from those published"
    assert why_loaded_again(stale, True, True, as_landed | {("another.csv", "0" * 64)}) == \
        "its exports differ from those published"  # a file taken away
    assert "its exports are as published, so something else" in why_loaded_again(stale, True, True, as_landed)
