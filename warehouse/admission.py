"""What must not be loaded, judged against what the working database already holds: a wave holding another
wave's files, or pseudonymised under a key other than the earlier waves'; a codebook that no longer
holds questions or options that loaded waves were asked (their answers would vanish from published
history without anyone deciding it).

Each check is a plain function returning what it found (empty when the wave may be loaded); the ingest
asset turns a finding into a refusal and its one-line reason. What does not belong here: rules on the
rows of a wave (``validation``), or the load itself (``warehouse.load``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from schemas.codebook import Codebook
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
    """The ``(name, sha256)`` files whose bytes are those of a file of the latest load of another wave of
    the survey (another survey's waves are other questionnaires: a file of theirs fails on its columns)."""
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


@dataclass(frozen=True)
class DroppedAnswers:
    """A question (``option_id`` None) or an option that a loaded wave was asked and a new codebook drops."""

    wave_id: str
    question_id: str
    option_id: str | None
    answers: int

    def __str__(self) -> str:
        what = f"option {self.option_id!r} of {self.question_id!r}" if self.option_id else f"question {self.question_id!r}"
        return f"wave {self.wave_id}: {what}, {self.answers:,} answers"


def answers_the_codebook_drops(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> list[DroppedAnswers]:
    """What each loaded wave of the survey was asked (``wave_questions`` as written from the codebook it was
    loaded under) that ``codebook`` no longer asks it, with the answers held. A question kept for the waves
    that asked it (``asked_in``, ``asked_from``) is not dropped, nor one renamed with ``renamed_from``."""
    params = {"survey_id": codebook.survey_id}
    asked = con.execute(read_sql("loaded_wave_questions"), params).fetchall()
    declared = {w.id for w in codebook.waves}
    kept: dict[str, dict[str, set]] = {}
    for wave_id in {wave for wave, _, _ in asked} & declared:
        questions = kept.setdefault(wave_id, {})
        for question in codebook.for_wave(wave_id).questions:
            for name in filter(None, (question.id, question.renamed_from)):
                questions[name] = {o.id for o in question.options}
    dropped = []
    for wave_id, question_id, option_ids in asked:
        if wave_id not in declared:
            continue  # a wave no codebook or wave.yaml declares any more is refused where it is read
        still = kept[wave_id].get(question_id)
        gone = [None] if still is None else [o for o in option_ids or () if o not in still]
        for option_id in gone:
            [(answers,)] = con.execute(read_sql("answers_held"), {
                **params, "wave_id": wave_id, "question_id": question_id, "option_id": option_id}).fetchall()
            if answers:
                dropped.append(DroppedAnswers(wave_id, question_id, option_id, answers))
    return dropped
