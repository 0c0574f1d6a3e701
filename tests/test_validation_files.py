"""Which reader copies a file into the staging database (``validation.files``), and that it decides no
outcome: DuckDB's reader for plain CSV it numbers as a person would; the export reader otherwise, with the
reason worded without a word of the file. Staging folders of dead processes are removed."""

from __future__ import annotations

import os

import pytest

from exports import WaveFileRejected
from tests.conftest import read_sample, sample_wave_path, write_csv
from validation.engine import validate_wave

WAVE = "2024"


def test_a_file_with_blank_lines_keeps_its_row_numbers(tmp_path, codebook, resolver):
    """DuckDB skips blank lines without counting them, which would shift every later row number."""
    rows = read_sample("2024").head(6).copy()
    rows.loc[4, "role"] = "Chair person"  # row 6 of the file as written, row 7 once a blank line is added
    text = write_csv(rows, tmp_path / "wave.csv").read_text().split("\n")
    path = tmp_path / "wave.csv"
    path.write_text("\n".join(text[:3] + [""] + text[3:]))
    result = validate_wave([path], codebook, WAVE, resolver, staging_dir=tmp_path / "staging")
    assert result.notes == ("wave.csv read by the plain-CSV reader: it has blank lines, whose numbers DuckDB "
                            "does not count",)
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[7, "allowed_option_label"]]
    assert (result.rows_read, result.rows_loaded) == (6, 5)
    result.discard()


def test_line_breaks_inside_cells_keep_rows_numbered_as_records(tmp_path, codebook, resolver):
    rows = read_sample("2024").head(6).copy()
    rows.loc[1, "comments"] = "first line\nsecond line\n\nafter an empty line"
    rows.loc[2, "comments"] = "one\r\ntwo"
    rows.loc[4, "role"] = "Chair person"
    path = write_csv(rows, tmp_path / "wave.csv")
    # An empty line inside a quoted cell cannot be told from a blank line without parsing: the export reader.
    result = validate_wave([path], codebook, WAVE, resolver, staging_dir=tmp_path / "staging")
    assert len(result.notes) == 1 and "blank lines" in result.notes[0]
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[6, "allowed_option_label"]]
    kept = result.valid_rows().set_index("source_row")
    assert kept.loc[3, "comments"] == "first line\nsecond line\n\nafter an empty line"
    rows.loc[1, "comments"] = "first line\nsecond line"
    path = write_csv(rows, tmp_path / "wave.csv")
    result = validate_wave([path], codebook, WAVE, resolver, staging_dir=tmp_path / "staging")
    assert result.notes == ()  # DuckDB's reader
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[6, "allowed_option_label"]]
    kept = result.valid_rows().set_index("source_row")
    assert kept.loc[3, "comments"] == "first line\nsecond line"
    assert kept.loc[4, "comments"] == "one\r\ntwo"
    result.discard()


def test_staging_folders_of_processes_that_died_are_removed(tmp_path, codebook, resolver):
    staging = tmp_path / "staging"
    dead = staging / "wave-999999999-abandoned"  # no such process
    alive = staging / f"wave-{os.getppid()}-running"
    for folder in (dead, alive):
        folder.mkdir(parents=True)
    result = validate_wave([sample_wave_path(WAVE)], codebook, WAVE, resolver, staging_dir=staging)
    assert not dead.exists() and alive.exists()
    assert result.staged.database.exists()
    result.discard()
    assert not result.staged.database.parent.exists()


def test_why_duckdb_did_not_read_a_file_is_said_without_quoting_the_line(tmp_path, codebook, resolver):
    """DuckDB's reader quotes the line it refuses ("Original Line: ..."); the note, logged and shown in
    Dagster, names the problem and the line only."""
    rows = read_sample(WAVE).head(10)
    path = write_csv(rows, tmp_path / "wave.csv")
    lines = path.read_text().split("\n")
    lines[5] = f"{rows.loc[4, 'respondent_id']},{rows.loc[4, 'submitted_at']},jo.bloggs@example.org"
    path.write_text("\n".join(lines))
    result = validate_wave([path], codebook, WAVE, resolver, staging_dir=tmp_path / "staging")
    assert result.notes == ("wave.csv read by the plain-CSV reader: a row with more or fewer cells than the "
                            "header (line 6 of the file)",)
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[6, "field_count"]]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (10, 9, 1)
    result.discard()


def test_a_named_pipe_among_a_waves_files_is_refused_unopened(tmp_path, codebook, resolver):
    pipe = tmp_path / "wave.csv"
    os.mkfifo(pipe)  # opening it to read would wait for a writer that never comes
    with pytest.raises(WaveFileRejected, match=r"not a regular file but a named pipe \(FIFO\)") as refused:
        validate_wave([pipe], codebook, "2024", resolver, staging_dir=tmp_path / "staging")
    assert refused.value.path == str(pipe)
