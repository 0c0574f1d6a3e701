"""The settings: every ``SURVEY_*`` variable read once, checked, and a bad value named on one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from home.settings import DEFAULT_MAX_FILE_MB, Settings, SettingsError, SurveyHome, load_settings
from pipelines.cli import app
from pipelines.definitions import build_definitions


def _environment(monkeypatch, **variables: str) -> None:
    for name in ("SURVEY_HOME", "SURVEY_MAX_FILE_MB", "SURVEY_DUCKDB_MEMORY_MB", "SURVEY_RESPONDENT_KEY",
                 "SURVEY_SETTLE_SECONDS", "SURVEY_BRIEF_PDF"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_unset_and_empty_variables_take_the_defaults(monkeypatch):
    _environment(monkeypatch, SURVEY_MAX_FILE_MB="")
    settings = load_settings()
    assert settings.model_dump() == Settings.defaults().model_dump()
    assert settings.home == Path("survey_home") and settings.max_file_mb == DEFAULT_MAX_FILE_MB
    assert settings.max_file_bytes == DEFAULT_MAX_FILE_MB * 1024 * 1024 and settings.respondent_key is None
    assert settings.settle_seconds == 5  # the five seconds
    assert settings.brief_pdf is True  # a user's pack has its PDF unless turned off
    assert SurveyHome(Path("x")).settings.model_dump() == Settings.defaults().model_dump()


def test_every_variable_is_read(monkeypatch):
    _environment(monkeypatch, SURVEY_HOME="/srv/survey", SURVEY_MAX_FILE_MB="7", SURVEY_DUCKDB_MEMORY_MB="256",
                 SURVEY_RESPONDENT_KEY="a key long enough for the test", SURVEY_SETTLE_SECONDS="2.5", SURVEY_BRIEF_PDF="false")
    settings = load_settings()
    assert settings.brief_pdf is False
    assert settings.home == Path("/srv/survey") and settings.max_file_mb == 7 and settings.duckdb_memory_mb == 256
    assert settings.settle_seconds == 2.5
    assert settings.respondent_key_text == "a key long enough for the test"


@pytest.mark.parametrize(("environ", "message"), [
    ({"SURVEY_MAX_FILE_MB": "abc"}, "SURVEY_MAX_FILE_MB: Input should be a valid integer"),
    ({"SURVEY_BRIEF_PDF": "perhaps"}, "SURVEY_BRIEF_PDF: Input should be a valid boolean"),
    ({"SURVEY_DUCKDB_MEMORY_MB": "-1"}, "SURVEY_DUCKDB_MEMORY_MB: Input should be greater than 0 (got '-1')"),
    ({"SURVEY_RESPONDENT_KEY": "short"}, "SURVEY_RESPONDENT_KEY: a respondent key needs at least 16 bytes"),
    ({"SURVEY_SETTLE_SECONDS": "-2"}, "SURVEY_SETTLE_SECONDS: Input should be greater than or equal to 0 (got '-2')"),
    ({"SURVEY_DUCKLAKE_KEEP_DAYS": "-1"},
     "SURVEY_DUCKLAKE_KEEP_DAYS: Input should be greater than or equal to 0 (got '-1')"),
])
def test_a_bad_value_is_named(environ, message, monkeypatch):
    _environment(monkeypatch, **environ)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert "short'" not in str(raised.value)  # a key is never echoed


def test_a_bad_value_stops_the_command_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_MAX_FILE_MB", "abc")
    result = CliRunner().invoke(app, ["wave", "list", "--home", str(tmp_path)])
    assert result.exit_code == 2
    line = ("SETTINGS ERROR: SURVEY_MAX_FILE_MB: Input should be a valid integer, unable to parse string as an "
            "integer (got 'abc')")
    assert result.output.strip().splitlines() == [line]


def test_the_definitions_pass_the_settings_to_the_resource_and_never_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_RESPONDENT_KEY", "a key long enough for the test")
    settings = load_settings().model_copy(update={"max_file_mb": 3, "duckdb_memory_mb": 64})
    resource = build_definitions(tmp_path, settings).resources["survey_home"]
    assert (resource.max_file_mb, resource.duckdb_memory_mb) == (3, 64)
    assert "a key long enough" not in repr(resource.respondent_key)  # an EnvVar: Dagster's config names it
    with pytest.raises(SettingsError, match="SURVEY_MAX_FILE_MB"):
        monkeypatch.setenv("SURVEY_MAX_FILE_MB", "abc")
        build_definitions(tmp_path)
