"""The DuckDB engine (``schemas.staged_validation``) against the pandas engine: the same valid rows, the same
quarantine and the same file counts for every file of the bad-input corpus and for a messy wave of several
files; the same warehouse after loading; and a clear way back to the pandas engine where DuckDB would
number rows differently. (``tests/test_validation.py`` also runs every rule on both engines.)"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exports import WaveFileRejected
from schemas.reference import load_trusts
from schemas.response_schema import parse_timestamps
from schemas.validation import validate_wave
from tests.conftest import read_sample, sample_wave_path, write_csv
from warehouse.connection import connect
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.load import load_wave
from warehouse.pseudonyms import Pseudonymiser

CORPUS = Path(__file__).parent / "bad_inputs"
WAVE = "2024"
# Corpus files the DuckDB engine hands back to the pandas engine, and why.
NOT_STAGED = {
    "download_cut_short.csv": "a cell with an unterminated quote (line 31 of the file)",  # cut off mid-cell
    "windows_1252_curly_quotes.csv": "not UTF-8",
    "qualtrics_unfinished_response.csv": "not every file is a plain CSV",
    "surveymonkey_same_email_twice.csv": "not every file is a plain CSV",
}


def _outcome(tmp_path, paths, codebook, resolver, engine, wave=WAVE):
    """(engine used, note, valid rows, quarantine, files), or the refusal's message."""
    try:
        result = validate_wave(paths, codebook, wave, resolver, engine=engine, staging_dir=tmp_path / engine)
    except WaveFileRejected as exc:
        return str(exc)
    valid = result.valid_rows()
    if result.staged is not None:
        # The parsed submission time travels with the staged rows; the pandas engine parses it at load.
        expected = parse_timestamps(valid["submitted_at"])
        assert (valid.pop("submitted_at_parsed") == expected).all()
    result.discard()
    return result.engine, result.engine_note, _canonical(valid), _canonical(result.quarantine), result.files


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as objects, missing as None, columns and rows in one order: dtypes and order are not outcomes."""
    frame = frame.astype(object).where(frame.notna(), None)
    frame = frame[sorted(frame.columns)]
    return frame.sort_values(list(frame.columns), key=lambda c: c.astype(str)).reset_index(drop=True)


def _assert_same(pandas_outcome, duckdb_outcome):
    if isinstance(pandas_outcome, str) or isinstance(duckdb_outcome, str):
        assert duckdb_outcome == pandas_outcome
        return
    pd.testing.assert_frame_equal(duckdb_outcome[2], pandas_outcome[2], obj="valid rows")
    pd.testing.assert_frame_equal(duckdb_outcome[3], pandas_outcome[3], obj="quarantine")
    assert duckdb_outcome[4] == pandas_outcome[4]


CORPUS_CSVS = sorted(p.name for p in CORPUS.glob("*.csv"))


@pytest.mark.parametrize("name", CORPUS_CSVS)
def test_both_engines_give_the_same_outcome_for_the_bad_input_corpus(tmp_path, name, codebook, resolver):
    path = CORPUS / name
    pandas_outcome = _outcome(tmp_path, [path], codebook, resolver, "pandas")
    duckdb_outcome = _outcome(tmp_path, [path], codebook, resolver, "duckdb")
    _assert_same(pandas_outcome, duckdb_outcome)
    if isinstance(duckdb_outcome, str):
        return  # a refused file: the same refusal, whichever engine was asked
    engine, note = duckdb_outcome[:2]
    if name in NOT_STAGED:
        assert engine == "pandas" and NOT_STAGED[name] in note
    else:
        assert engine == "duckdb", note
        assert duckdb_outcome[3].shape[0] == pandas_outcome[3].shape[0]


@pytest.mark.parametrize("wave_id", ["2023", "2024", "2025"])
def test_both_engines_give_the_same_outcome_for_the_bundled_waves(tmp_path, wave_id, codebook, resolver):
    paths = [sample_wave_path(wave_id)]
    pandas_outcome = _outcome(tmp_path, paths, codebook, resolver, "pandas", wave=wave_id)
    duckdb_outcome = _outcome(tmp_path, paths, codebook, resolver, "duckdb", wave=wave_id)
    assert duckdb_outcome[0] == "duckdb"
    _assert_same(pandas_outcome, duckdb_outcome)
    assert len(duckdb_outcome[2]) == len(read_sample(wave_id))


def _messy_wave(tmp_path) -> list[Path]:
    """Two files of one wave with what real deliveries contain: padded and re-cased labels, a trust by name
    and one in lower case, a line break and quotes inside free text, a row of empty cells, offsets on
    times, resubmissions within and across files (by id and by email in other case), and bad cells."""
    rows = read_sample("2024").head(40).copy()
    rows.loc[0, "role"] = "  chief EXECUTIVE "
    rows.loc[1, "trust_impact_alignment"] = "don't know"
    rows.loc[2, "trust_code"] = "Royal Surrey NHS Foundation Trust"
    rows.loc[3, "trust_code"] = " rbq "
    rows.loc[4, "comments"] = 'Two lines,\nwith "quotes" inside'
    rows.loc[5, "submitted_at"] = "2024-09-03T10:00:00+01:00"
    rows.loc[6, "submitted_at"] = "2024-09-03T09:00:00Z"
    rows.loc[7, "trust_approach_stage"] = "We are nearly there"
    rows.loc[8, "trust_barriers.funding"] = "2"
    rows.loc[9, "respondent_id"] = "   "
    rows.loc[10, "submitted_at"] = "31/02/2024 25:00"
    rows.loc[11, "comments"] = "x" * 2001
    rows.loc[12, "respondent_id"] = rows.loc[13, "respondent_id"]  # the same respondent twice in file 1
    rows.loc[14, "email"] = rows.loc[15, "email"].upper()  # the same email, in capitals
    rows.loc[16, "trust_code"] = "ZZZ99"
    rows.loc[17, "role"] = np.nan
    rows.loc[18, list(rows.columns)] = np.nan  # a row of empty cells: skipped, its number kept
    second = rows.tail(20).copy()
    first = rows.head(20).copy()
    second.loc[second.index[0], "respondent_id"] = first.loc[0, "respondent_id"]  # resubmitted in file 2
    second.loc[second.index[0], "submitted_at"] = "2024-12-01T00:00:00"
    second.loc[second.index[1], "respondent_id"] = first.loc[1, "respondent_id"]  # but earlier than file 1's
    second.loc[second.index[1], "submitted_at"] = "2024-01-01T00:00:00"
    return [write_csv(first, tmp_path / "part1.csv"), write_csv(second, tmp_path / "part2.csv")]


def test_both_engines_give_the_same_outcome_for_a_messy_wave_of_two_files(tmp_path, codebook, resolver):
    paths = _messy_wave(tmp_path)
    pandas_outcome = _outcome(tmp_path, paths, codebook, resolver, "pandas")
    duckdb_outcome = _outcome(tmp_path, paths, codebook, resolver, "duckdb")
    assert duckdb_outcome[0] == "duckdb", duckdb_outcome[1]
    _assert_same(pandas_outcome, duckdb_outcome)
    # What the comparison covers, worked out by hand from _messy_wave: seven bad cells and four
    # resubmissions (the sample's times increase down the file, so a later row is a later submission).
    quarantine = duckdb_outcome[3]
    assert sorted(quarantine.loc[quarantine["rule"] != "superseded", "rule"]) == sorted(
        ["allowed_option_label", "option_flag_0_or_1", "required", "timestamp_parses", "text_max_length",
         "known_trust_code", "required"])
    superseded = quarantine[quarantine["rule"] == "superseded"]
    assert sorted(map(tuple, superseded[["source_file", "source_row", "column_name", "kept_source_file",
                                         "kept_source_row"]].values.tolist())) == [
        ("part1.csv", 2, "respondent_id", "part2.csv", 2),  # sent again, later, in the second file
        ("part1.csv", 14, "respondent_id", "part1.csv", 15),
        ("part1.csv", 16, "email", "part1.csv", 17),  # the same email in capitals
        ("part2.csv", 3, "respondent_id", "part1.csv", 3),  # the second file's copy is the earlier one
    ]
    files = duckdb_outcome[4]
    assert [(f.name, f.rows_read) for f in files] == [("part1.csv", 19), ("part2.csv", 20)]


def test_both_engines_fill_the_warehouse_alike(tmp_path, codebook, resolver):
    paths = _messy_wave(tmp_path)
    tables = {}
    for engine in ("pandas", "duckdb"):
        result = validate_wave(paths, codebook, WAVE, resolver, engine=engine, staging_dir=tmp_path / "staging")
        assert result.engine == engine
        with connect(tmp_path / f"{engine}.duckdb") as con:
            write_trusts(con, load_trusts())
            write_survey_dimensions(con, codebook)
            counts = load_wave(con, codebook, WAVE, result, run_id="run", pseudonymise=Pseudonymiser(b"k" * 32))
            assert counts["reconciles"]
            tables[engine] = {
                t: con.execute(f"SELECT * EXCLUDE (run_id) FROM {t} ORDER BY ALL").df() if t == "quarantine"
                else con.execute(f"SELECT * FROM {t} ORDER BY ALL").df()
                for t in ("respondents", "responses", "free_text_responses", "quarantine")
            }
        result.discard()
        if engine == "duckdb":
            assert list((tmp_path / "staging").iterdir()) == []  # the staging folder went with discard()
    for table, frame in tables["pandas"].items():
        assert len(frame) > 0, table
        pd.testing.assert_frame_equal(tables["duckdb"][table], frame, obj=table)


def test_a_file_with_blank_lines_is_validated_by_pandas_with_its_row_numbers(tmp_path, codebook, resolver):
    """DuckDB skips blank lines without counting them, which would shift every later row number."""
    rows = read_sample("2024").head(6).copy()
    rows.loc[4, "role"] = "Chair person"  # row 6 of the file as written, row 7 once a blank line is added
    text = write_csv(rows, tmp_path / "wave.csv").read_text().split("\n")
    path = tmp_path / "wave.csv"
    path.write_text("\n".join(text[:3] + [""] + text[3:]))
    result = validate_wave([path], codebook, WAVE, resolver, engine="duckdb", staging_dir=tmp_path / "staging")
    assert result.engine == "pandas" and "blank lines" in result.engine_note
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[7, "allowed_option_label"]]


def test_line_breaks_inside_cells_keep_the_file_staged_and_rows_numbered_as_records(tmp_path, codebook, resolver):
    rows = read_sample("2024").head(6).copy()
    rows.loc[1, "comments"] = "first line\nsecond line\n\nafter an empty line"
    rows.loc[2, "comments"] = "one\r\ntwo"
    rows.loc[4, "role"] = "Chair person"
    path = write_csv(rows, tmp_path / "wave.csv")
    result = validate_wave([path], codebook, WAVE, resolver, engine="duckdb", staging_dir=tmp_path / "staging")
    pandas = validate_wave([path], codebook, WAVE, resolver, engine="pandas")
    # An empty line inside a quoted cell cannot be told from a blank line without parsing: pandas, to be safe.
    assert result.engine == "pandas"
    assert result.quarantine.equals(pandas.quarantine)
    rows.loc[1, "comments"] = "first line\nsecond line"
    path = write_csv(rows, tmp_path / "wave.csv")
    result = validate_wave([path], codebook, WAVE, resolver, engine="duckdb", staging_dir=tmp_path / "staging")
    assert result.engine == "duckdb", result.engine_note
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[6, "allowed_option_label"]]
    assert result.valid_rows().set_index("source_row").loc[3, "comments"] == "first line\nsecond line"
    assert result.valid_rows().set_index("source_row").loc[4, "comments"] == "one\r\ntwo"
    result.discard()


def test_staging_folders_of_processes_that_died_are_removed(tmp_path, codebook, resolver):
    staging = tmp_path / "staging"
    dead = staging / "wave-999999999-abandoned"  # no such process
    alive = staging / f"wave-{os.getppid()}-running"
    for folder in (dead, alive):
        folder.mkdir(parents=True)
    result = validate_wave([sample_wave_path(WAVE)], codebook, WAVE, resolver, engine="duckdb", staging_dir=staging)
    assert not dead.exists() and alive.exists()
    assert result.staged.database.exists()
    result.discard()
    assert not result.staged.database.parent.exists()


def test_the_way_back_to_pandas_says_why_without_quoting_the_line(tmp_path, codebook, resolver):
    """DuckDB's reader quotes the line it refuses ("Original Line: ..."); the note, logged and shown in
    Dagster, names the problem and the line only."""
    rows = read_sample(WAVE).head(10)
    path = write_csv(rows, tmp_path / "wave.csv")
    lines = path.read_text().split("\n")
    lines[5] = f"{rows.loc[4, 'respondent_id']},{rows.loc[4, 'submitted_at']},jo.bloggs@example.org"
    path.write_text("\n".join(lines))
    result = validate_wave([path], codebook, WAVE, resolver, engine="duckdb", staging_dir=tmp_path / "staging")
    assert result.engine == "pandas"
    assert result.engine_note == ("validated as pandas frames: wave.csv: a row with more or fewer cells than the "
                                  "header (line 6 of the file)")
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[6, "field_count"]]
