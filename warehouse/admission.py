"""What a validated wave must not be, judged against what the working database already holds: another
wave's files delivered again, or pseudonymised under a key other than the earlier waves'.

Each check is a plain function returning what it found (empty when the wave may be loaded); the ingest
asset turns a finding into a refusal and its one-line reason. What does not belong here: rules on the
rows of a wave (``validation``), or the load itself (``warehouse.load``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from warehouse.connection import read_sql


@dataclass(frozen=True)
class FileOfAnotherWave:
    """A delivered file whose bytes are those of a file loaded in another wave."""

    file: str
    other_survey_id: str
    other_wave_id: str
    other_file: str

    def __str__(self) -> str:
        return (f"{self.file} has the same bytes as {self.other_file}, loaded in wave "
                f"{self.other_survey_id}/{self.other_wave_id}")


def files_of_other_waves(
    con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, files: list[tuple[str, str]],
) -> list[FileOfAnotherWave]:
    """The ``(name, sha256)`` files whose bytes are those of a file of another wave's latest load."""
    digests = sorted({sha for _, sha in files})
    rows = con.execute(read_sql("other_waves_files"),
                       {"survey_id": survey_id, "wave_id": wave_id, "digests": digests}).fetchall()
    found = []
    for name, sha in files:
        found += [FileOfAnotherWave(name, other_survey, other_wave, other_file)
                  for digest, other_survey, other_wave, other_file in rows if digest == sha]
    return found


def waves_under_other_keys(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, key_fingerprint: str) -> list[str]:
    """The survey's other waves whose latest load used another pseudonym key than ``key_fingerprint``."""
    rows = con.execute(read_sql("waves_under_other_keys"),
                       {"survey_id": survey_id, "wave_id": wave_id, "key_fingerprint": key_fingerprint}).fetchall()
    return [wave for (wave,) in rows]
