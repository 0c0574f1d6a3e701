"""The `survey` command as an engineer uses it, and the instance settings it applies."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.instance import instance_for
from pipelines.settings import SurveyHome
from tests.conftest import SURVEY_ID, read_sample, sample_wave_path, write_csv


def test_run_reports_a_rejected_wave_loads_the_others_and_exits_non_zero(tmp_path):
    landing = tmp_path / "landing" / SURVEY_ID
    (landing / "2023").mkdir(parents=True)
    shutil.copyfile(sample_wave_path("2023"), landing / "2023" / "wave.csv")
    write_csv(read_sample("2024").drop(columns=["role"]), landing / "2024" / "export.csv")

    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path)], terminal_width=200)

    assert result.exit_code == 1
    assert f"{SURVEY_ID}/2023: ok" in result.output
    failure = next(line for line in result.output.splitlines() if line.startswith(f"{SURVEY_ID}/2024"))
    assert "FAILED" in failure and "export.csv" in failure and "role" in failure
    with duckdb.connect(str(tmp_path / "warehouse" / "survey.duckdb"), read_only=True) as con:
        waves = con.execute("select distinct wave_id from respondents order by 1").fetchall()
    assert waves == [("2023",)]


def test_run_on_an_empty_home_says_where_to_put_files(tmp_path):
    result = CliRunner().invoke(app, ["run", "--home", str(tmp_path)])
    assert result.exit_code == 0
    assert "No wave in" in result.output and str(tmp_path / "landing") in result.output


def test_the_home_instance_uses_the_projects_dagster_yaml(tmp_path):
    instance = instance_for(SurveyHome(tmp_path))
    assert (tmp_path / "dagster" / "dagster.yaml").is_file()
    assert instance.root_directory == str(tmp_path / "dagster")
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    assert not instance.telemetry_enabled
    assert isinstance(instance, dg.DagsterInstance)
