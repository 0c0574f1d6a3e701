"""Waves refused for what the working database already holds: a file with the bytes of another wave's
file (a symlink to one included), and a pseudonym key other than the one the earlier waves were loaded
with. Real Dagster runs over a real home; the expectations are the files and keys the tests set up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.constants import CHECK_NOT_ANOTHER_WAVES_FILES, CHECK_SAME_RESPONDENT_KEY
from tests.conftest import sample_wave_path
from tests.wave_runs import SURVEY_ID, check_evaluation, failure_description, home_holding_2023
from warehouse.connection import connect


def _rows(home: Path, sql: str, params=()) -> list[tuple]:
    with connect(home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _wave_2023(home: Path) -> pd.DataFrame:
    with connect(home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        return con.execute("select * from respondents where wave_id = '2023' order by all").df()


def _wave_dir(home: Path, wave_id: str) -> Path:
    wave_dir = home / "landing" / SURVEY_ID / wave_id
    wave_dir.mkdir(parents=True, exist_ok=True)
    return wave_dir


def test_a_symlink_to_another_waves_file_is_refused_naming_both(tmp_path):
    home, run = home_holding_2023(tmp_path)
    before = _wave_2023(home)
    (_wave_dir(home, "2024") / "export.csv").symlink_to(home / "landing" / SURVEY_ID / "2023" / "wave.csv")
    result = run("2024")
    assert not result.success
    assert "export.csv has the same bytes as wave.csv, loaded in wave improvement-journey/2023" in failure_description(result)
    check = check_evaluation(result, CHECK_NOT_ANOTHER_WAVES_FILES)
    assert not check.passed and check.metadata["other_waves"].value == f"{SURVEY_ID}/2023"
    assert _rows(home, "select count(*) from respondents where wave_id = '2024'") == [(0,)]
    pd.testing.assert_frame_equal(before, _wave_2023(home))


def test_a_file_of_a_withdrawn_wave_does_not_count_as_another_waves(tmp_path):
    from assets.resources import SurveyHomeResource
    from pipelines.waves import withdraw_wave

    home, run = home_holding_2023(tmp_path)
    withdraw_wave(SurveyHomeResource(home=str(home)).paths, SURVEY_ID, "2023", reason="delivered to the wrong wave")
    wave_dir = _wave_dir(home, "2024")
    (wave_dir / "export.csv").write_bytes(sample_wave_path("2023").read_bytes())
    (wave_dir / "wave.yaml").write_text("accept_times_outside_fieldwork: true\n")  # its times are still 2023's
    result = run("2024")
    assert result.success, failure_description(result)
    assert check_evaluation(result, CHECK_NOT_ANOTHER_WAVES_FILES).passed
    assert _rows(home, "select count(*) from respondents where wave_id = '2024'") == [(129,)]


def test_a_wave_loaded_again_is_not_refused_for_bytes_another_wave_accepted(tmp_path):
    home, run = home_holding_2023(tmp_path)
    wave_dir = _wave_dir(home, "2024")
    (wave_dir / "export.csv").write_bytes(sample_wave_path("2023").read_bytes())
    (wave_dir / "wave.yaml").write_text("accept_files_of_other_waves: true\naccept_times_outside_fieldwork: true\n")
    accepted = run("2024")
    assert accepted.success, failure_description(accepted)
    check = check_evaluation(accepted, CHECK_NOT_ANOTHER_WAVES_FILES)
    assert not check.passed and check.severity.value == "WARN"
    again = run("2023")  # 2023's own file, now also wave 2024's: still 2023's, as its latest load held it
    assert again.success, failure_description(again)
    assert check_evaluation(again, CHECK_NOT_ANOTHER_WAVES_FILES).passed


def test_a_load_under_another_respondent_key_is_refused_with_the_remedy(tmp_path):
    home, run = home_holding_2023(tmp_path)
    before = _wave_2023(home)
    (_wave_dir(home, "2024") / "export.csv").write_bytes(sample_wave_path("2024").read_bytes())
    other_key = "another key of forty characters, typed.."
    result = run("2024", respondent_key=other_key)
    assert not result.success
    description = failure_description(result)
    assert "the respondent key is not the one wave(s) 2023 of improvement-journey were loaded with" in description
    assert "Restore that key" in description and other_key not in description
    assert not check_evaluation(result, CHECK_SAME_RESPONDENT_KEY).passed
    assert _rows(home, "select count(*) from respondents where wave_id = '2024'") == [(0,)]
    pd.testing.assert_frame_equal(before, _wave_2023(home))
    # Under the key the home's key file holds, the wave loads and its fingerprint is 2023's.
    assert run("2024").success
    [(fingerprints,)] = _rows(home, "select count(distinct key_fingerprint) from load_log")
    assert fingerprints == 1


def test_the_only_wave_of_a_survey_may_be_loaded_again_under_a_new_key(tmp_path):
    home, run = home_holding_2023(tmp_path)
    [(old,)] = _rows(home, "select distinct key_fingerprint from load_log")
    assert run("2023", respondent_key="a new key, chosen before any other wave..").success
    [(new,)] = _rows(home, "select key_fingerprint from load_log qualify loaded_at = max(loaded_at) over ()")
    assert new != old and new is not None


def test_a_key_has_one_fingerprint_that_is_not_its_plain_hash():
    import hashlib

    from warehouse.pseudonyms import Pseudonymiser

    key = b"k" * 32
    fingerprint = Pseudonymiser(key).fingerprint
    assert Pseudonymiser(key).fingerprint == fingerprint != Pseudonymiser(b"j" * 32).fingerprint
    assert fingerprint not in hashlib.sha256(key).hexdigest()  # keyed: not found by hashing candidate keys
