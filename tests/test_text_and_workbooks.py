"""How a file's bytes become cells: the encoding decided on evidence (``exports.text``) and a workbook read
within bounds (``exports.workbook``). Expectations are the bytes the tests write."""

from __future__ import annotations

import zipfile

import pytest

from exports import ReadLimits, WaveFileRejected
from exports.text import UTF8, UTF16, WINDOWS_1252, decode_text
from exports.workbook import workbook_rows
from tests.conftest import read_sample, write_csv
from tests.exports import with_shared_strings
from validation.engine import validate_wave


def test_one_invalid_byte_in_twelve_thousand_rows_leaves_the_file_utf8_and_quarantines_that_row(
        tmp_path, codebook, resolver):
    rows = read_sample("2024")
    rows = rows.loc[rows.index.repeat(12_000 // len(rows) + 1)].head(12_000).reset_index(drop=True)
    rows["respondent_id"] = [f"R{i:05d}" for i in range(len(rows))]
    rows["email"] = [f"person{i}@trust.nhs.uk" for i in range(len(rows))]
    rows["comments"] = "Réunion à Çatalhöyük"
    rows.loc[9_999, "comments"] = "MARK"
    path = write_csv(rows, tmp_path / "wave.csv")
    path.write_bytes(path.read_bytes().replace(b"MARK", b"r\xe9union"))  # é as Windows-1252 writes it
    validation = validate_wave([path], codebook, "2024", resolver)
    try:
        assert validation.files[0].encoding == UTF8
        encoding_rows = validation.quarantine[validation.quarantine["rule"] == "encoding"]
        assert encoding_rows["source_row"].tolist() == [10_001]  # the header is row 1
        assert encoding_rows["column_name"].tolist() == ["comments"]
        assert "wave.csv row 10001, column comments" in encoding_rows["reason"].iloc[0]
        assert "r\\xe9union" not in encoding_rows["reason"].iloc[0] and "union" not in encoding_rows["reason"].iloc[0]
        assert validation.rows_read == 12_000
    finally:
        validation.discard()


def test_the_encoding_is_decided_on_the_files_evidence(tmp_path):
    path = tmp_path / "wave.csv"
    header = b"a,b\n"
    # Valid UTF-8 throughout.
    assert decode_text(path, header + "é,1\n".encode()).encoding == UTF8
    # No valid multi-byte UTF-8 character, and Windows-1252 decodes it: Windows-1252, even for one row.
    assert decode_text(path, header + b"caf\xe9,1\n" + b"x,2\n" * 40).encoding == WINDOWS_1252
    # Accented UTF-8 beside one invalid byte: UTF-8, the line counted.
    text = decode_text(path, header + "é,1\n".encode() + b"caf\xe9,2\n")
    assert (text.encoding, text.undecodable_lines) == (UTF8, 1)
    # Beyond the rows allowed, Windows-1252 when it decodes the file (the é becomes Ã©, as it must).
    many = header + "é,1\n".encode() + b"caf\xe9,2\n" * 11
    assert decode_text(path, many).encoding == WINDOWS_1252
    # ... and with the limit raised, still UTF-8: the setting decides.
    assert decode_text(path, many, ReadLimits(encoding_error_rows=11)).encoding == UTF8
    # The share counts when it allows more rows than the count: 0.1% of 20,000 lines is 20.
    big = header + b"x,1\n" * 20_000 + "é,1\n".encode() + b"caf\xe9,2\n" * 15
    assert decode_text(path, big).encoding == UTF8
    # UTF-16 with its BOM is text, not binary.
    assert decode_text(path, "a,b\nPé,1\n".encode("utf-16")).encoding == UTF16
    with pytest.raises(WaveFileRejected, match="binary"):
        decode_text(path, b"a,b\x00\x00\x01\n")


def _workbook(tmp_path, rows=3, **parts) -> object:
    from openpyxl import Workbook

    path = tmp_path / "book.xlsx"
    book = Workbook()
    for i in range(rows):
        book.active.append([f"cell {i}", i])
    book.save(path)
    return path


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_it_is_opened(tmp_path):
    path = _workbook(tmp_path)
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    with pytest.raises(WaveFileRejected, match=f"unpacks to {unpacked:,} bytes, over the limit of 1,000"):
        workbook_rows(path, limits=ReadLimits(workbook_uncompressed_bytes=1000))
    assert len(workbook_rows(path, limits=ReadLimits(workbook_uncompressed_bytes=unpacked)).rows) == 3


def test_shared_strings_are_counted_when_the_workbook_does_not_declare_them(tmp_path):
    path = with_shared_strings(_workbook(tmp_path), 50, declared=False)
    with pytest.raises(WaveFileRejected, match="holds 50 distinct texts, over the limit of 49"):
        workbook_rows(path, limits=ReadLimits(workbook_shared_strings=49))
    assert len(workbook_rows(path, limits=ReadLimits(workbook_shared_strings=50)).rows) == 3


def test_a_workbook_declaring_millions_of_strings_is_refused_before_openpyxl_reads_them(tmp_path, monkeypatch):
    import openpyxl

    path = with_shared_strings(_workbook(tmp_path), 3_000_000)
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("the workbook was opened"))
    with pytest.raises(WaveFileRejected, match="holds 3,000,000 distinct texts, over the limit of 2,000,000"):
        workbook_rows(path)


def test_a_sheet_with_more_cells_than_the_limit_is_refused_while_it_is_read(tmp_path):
    path = _workbook(tmp_path, rows=10)  # 20 cells
    with pytest.raises(WaveFileRejected, match="holds more than 19 cells"):
        workbook_rows(path, limits=ReadLimits(workbook_cells=19))
    assert len(workbook_rows(path, limits=ReadLimits(workbook_cells=20)).rows) == 10


def test_a_large_windows_1252_file_is_recognised_in_one_pass(tmp_path):
    # An accented character on each of 300,000 lines: counting each invalid byte's line from the start
    # of the file would take hours; one pass over the file takes a fraction of a second.
    data = b"a,b\n" + b"caf\xe9,1\n" * 300_000
    text = decode_text(tmp_path / "wave.csv", data)
    assert text.encoding == WINDOWS_1252 and text.text.count("café") == 300_000
