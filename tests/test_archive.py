"""The archive holds exactly the bytes that were validated: a file replaced in between is refused, and
nothing is kept under the validated file's name."""

from __future__ import annotations

import hashlib

import pytest

from home.landing import ArchivedOtherBytes, archive_files


def test_a_file_replaced_after_validation_is_not_archived_under_the_validated_digest(tmp_path):
    landed = tmp_path / "landing" / "wave.csv"
    landed.parent.mkdir()
    landed.write_bytes(b"respondent_id\nR1\n")
    validated = hashlib.sha256(landed.read_bytes()).hexdigest()
    landed.write_bytes(b"respondent_id\nR1\nR2\n")  # replaced while the run validated the first bytes
    archive = tmp_path / "archive"
    with pytest.raises(ArchivedOtherBytes, match="wave.csv no longer holds the bytes read"):
        archive_files([landed], archive, tmp_path, digests={"wave.csv": validated})
    assert list(archive.iterdir()) == []  # neither a copy under the validated name nor a partial one


def test_the_archived_copy_is_named_by_the_digest_of_its_bytes(tmp_path):
    landed = tmp_path / "wave.csv"
    landed.write_bytes(b"respondent_id\nR1\n")
    digest = hashlib.sha256(landed.read_bytes()).hexdigest()
    archived = archive_files([landed], tmp_path / "archive", tmp_path, digests={"wave.csv": digest})
    copy = tmp_path / archived["wave.csv"]
    assert copy.name == f"{digest[:16]}-wave.csv" and copy.read_bytes() == landed.read_bytes()
