"""The corpus of bad inputs (tests/bad_inputs): each file gives its stated outcome, and no earlier wave
of the warehouse changes, whatever the file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from exports import FILE_SUFFIXES, ReadLimits, WaveFileRejected
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.reference import load_trusts
from tests.conftest import sample_wave_path
from tests.wave_runs import home_holding_2023
from validation.engine import validate_wave
from warehouse.connection import connect
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.load import load_wave
from warehouse.pseudonyms import Pseudonymiser

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())
WAVE = "2024"
PSEUDONYMISE = Pseudonymiser(b"corpus tests key, thirty-two b..")
MAX_BYTES = {"oversize.csv": 1000}


SECTIONS = ("row_level", "wave_level", "file_level")


def test_the_corpus_covers_at_least_sixty_cases_and_every_file_has_its_outcome():
    assert sum(len(CASES[section]) for section in SECTIONS) >= 60
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix in FILE_SUFFIXES}
    assert on_disk == set().union(*(CASES[section] for section in SECTIONS))


@pytest.mark.parametrize("name", sorted(CASES["process_level"]))
def test_each_process_level_case_names_a_test_that_exists(name):
    import importlib

    path, function = CASES["process_level"][name]["test"].split("::")
    assert callable(getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), function, None)), name


@pytest.fixture()
def warehouse(tmp_path, codebook, resolver):
    """A warehouse holding wave 2023, and a snapshot of it to compare with afterwards."""
    with connect(tmp_path / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        load_wave(con, codebook, "2023", validate_wave([sample_wave_path("2023")], codebook, "2023", resolver),
                  run_id="earlier", pseudonymise=PSEUDONYMISE)
        before = _wave_2023(con)
        yield con
        after = _wave_2023(con)
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], obj=f"wave 2023 {table}")


def _wave_2023(con) -> dict[str, pd.DataFrame]:
    return {t: con.execute(f"select * from {t} where wave_id = '2023' order by all").df()
            for t in ("respondents", "responses", "quarantine", "load_log")}


@pytest.mark.parametrize("name", sorted(CASES["file_level"]))
def test_file_level_faults_refuse_the_file_whole(name, warehouse, codebook, resolver):
    with pytest.raises(WaveFileRejected) as error:
        validate_wave([CORPUS / name], codebook, WAVE, resolver, limits=ReadLimits(max_bytes=MAX_BYTES.get(name)))
    assert name in str(error.value)
    assert CASES["file_level"][name] in str(error.value)


@pytest.mark.parametrize("name", sorted(CASES["row_level"]))
def test_row_level_faults_quarantine_the_row_and_load_the_rest(name, warehouse, codebook, resolver):
    expected = CASES["row_level"][name]
    validation = validate_wave([CORPUS / name], codebook, WAVE, resolver)
    counts = load_wave(warehouse, codebook, WAVE, validation, run_id="corpus", pseudonymise=PSEUDONYMISE)
    assert (validation.rows_read, validation.rows_loaded) == (expected["read"], expected["loaded"])
    assert counts["respondents_in_warehouse"] == expected["loaded"]
    quarantined = warehouse.execute(
        "select source_row, rule from quarantine where wave_id = ? order by source_row, rule", [WAVE]).fetchall()
    assert [list(q) for q in quarantined] == expected["quarantined"]
    assert all(row[0] == name for row in warehouse.execute(
        "select source_file from quarantine where wave_id = ?", [WAVE]).fetchall())
    if "kept" in expected:
        kept = warehouse.execute("select kept_source_row from quarantine where rule = 'superseded'").fetchone()[0]
        assert kept == expected["kept"]
    if "encoding" in expected:
        assert validation.files[0].encoding == expected["encoding"]
    if "text" in expected:  # a free-text answer as stored: nothing garbled
        row, text = expected["text"]
        assert warehouse.execute(
            "select f.text from free_text_responses as f join respondents as r using (survey_id, wave_id, respondent_id) "
            "where f.wave_id = ? and r.source_row = ? and f.question_id = 'comments'", [WAVE, row]).fetchall() == [(text,)]
    if "timed" in expected:  # every submission time read, and inside the fieldwork
        times = validation.submission_times
        assert (times.timed, times.outside) == (expected["timed"], 0)
    if "note" in expected:
        assert any(expected["note"] in note for note in validation.notes)
    if "trust" in expected:
        row, code, reported = expected["trust"]
        stored = warehouse.execute(
            "select trust_code, trust_code_reported from respondents where wave_id = ? and source_row = ?",
            [WAVE, row]).fetchone()
        assert stored == (code, reported)


def test_no_personal_data_from_the_corpus_reaches_the_warehouse(warehouse, codebook, resolver, tmp_path):
    """Bad rows are where personal data could slip through: in an offending value or a reason."""
    personal = set()
    for name in CASES["row_level"]:
        validation = validate_wave([CORPUS / name], codebook, WAVE, resolver)
        load_wave(warehouse, codebook, WAVE, validation, run_id=name, pseudonymise=PSEUDONYMISE)
        personal |= _personal_values(CORPUS / name)
        assert personal_values_in_connection(warehouse, personal) == [], name


def _personal_values(path: Path) -> set[str]:
    """Emails (anything with an @: "n/a" or "-" are no one's, and are part of other text) and the free text
    too long to keep, from a corpus file, whatever its layout."""
    from exports import read_export

    responses = read_export(path, load_codebook(BUNDLED_CODEBOOKS_DIR / "improvement-journey.yaml").for_wave(WAVE)).responses
    values = {e for e in responses["email"].dropna() if "@" in e} if "email" in responses else set()
    return values | {t for t in responses["comments"].dropna() if len(t) > 2000}


def personal_values_in_connection(con, values: set[str]) -> list[str]:
    columns = con.execute(
        "select table_name, column_name from duckdb_columns() where not internal and data_type = 'VARCHAR'").fetchall()
    con.register("personal_values", pd.DataFrame({"value": sorted(values)}))
    try:
        return [f"{t}.{c}" for t, c in columns if con.execute(
            f'select count(*) from "{t}" as t join personal_values as p on contains(t."{c}", p.value)').fetchall()[0][0]]
    finally:
        con.unregister("personal_values")


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory):
    """A home whose warehouse holds wave 2023, loaded by a real Dagster run, and the instance it used."""
    return home_holding_2023(tmp_path_factory.mktemp("corpus_home"))


def _land_alone(home: Path, name: str, settings: str | None = None) -> None:
    """The corpus file as the only file of wave 2024, with a wave.yaml or none."""
    wave_dir = home / "landing" / "improvement-journey" / WAVE
    if wave_dir.exists():
        for old in wave_dir.iterdir():
            old.unlink()
    wave_dir.mkdir(parents=True, exist_ok=True)
    (wave_dir / name).write_bytes((CORPUS / name).read_bytes())
    if settings is not None:
        (wave_dir / "wave.yaml").write_text(settings)


@pytest.mark.parametrize("name", sorted(CASES["wave_level"]))
def test_a_wave_failing_a_wave_level_check_is_refused_before_it_is_loaded(name, dagster_home):
    result = _refused_leaving_earlier_waves(*dagster_home, name)
    [failure] = [e for e in result.all_events if e.is_step_failure]
    expected = CASES["wave_level"][name]
    assert expected["reason"] in failure.step_failure_data.user_failure_data.description
    check = next(e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == expected["check"])
    assert not check.passed and check.severity.value == "ERROR"


def _refused_leaving_earlier_waves(home: Path, run, name: str):
    """Run the corpus file landed alone as wave 2024: the run fails, nothing of 2024 (not even its
    quarantine) is in the working database, and wave 2023 is as it was."""
    _land_alone(home, name)
    with connect(home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        before = _wave_2023(con)
    result = run(WAVE)
    assert not result.success
    with connect(home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        after = _wave_2023(con)
        for table in ("respondents", "quarantine"):
            assert con.execute(f"select count(*) from {table} where wave_id = ?", [WAVE]).fetchall()[0][0] == 0
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], obj=f"wave 2023 {table}")
    return result


@pytest.mark.parametrize("name", sorted(CASES["wave_level"]))
def test_a_wave_accepted_on_purpose_in_its_wave_yaml_loads_with_the_warning(name, tmp_path):
    expected = CASES["wave_level"][name]
    home, run = home_holding_2023(tmp_path)
    _land_alone(home, name, settings=expected["accepted_by"] + "\n")
    accepted = run(WAVE)
    assert accepted.success
    check = next(e for e in accepted.get_asset_check_evaluations() if e.asset_check_key.name == expected["check"])
    assert not check.passed and check.severity.value == "WARN"
    assert accepted.asset_materializations_for_node("headline_indicators")  # a warning blocks nothing downstream
    with connect(home / "working" / "improvement-journey" / "survey.duckdb", read_only=True) as con:
        loaded = con.execute("select count(*) from respondents where wave_id = ?", [WAVE]).fetchall()[0][0]
    assert loaded == expected["loaded"]


def test_a_few_times_outside_the_fieldwork_are_a_warning_with_the_count(tmp_path):
    home, run = home_holding_2023(tmp_path)
    rows = pd.read_csv(CORPUS / "times_outside_fieldwork.csv", dtype=str, keep_default_na=False)
    rows.loc[3, "submitted_at"] = "2024-09-27T23:30:00Z"  # 00:30 on 28 September in London: a day late
    rows.loc[[8, 13, 18, 23], "submitted_at"] = "2024-09-02T00:00:00+01:00"  # the first minute: inside
    wave_dir = home / "landing" / "improvement-journey" / WAVE
    wave_dir.mkdir(parents=True)
    rows.to_csv(wave_dir / "wave.csv", index=False)
    result = run(WAVE)
    assert result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == "submission_times_in_fieldwork")
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["outside_fieldwork"].value == 1 and check.metadata["with_a_time"].value == 30
    # `survey run` (the runner, and the line it prints) says which checks warned, not only "ok".
    from home.settings import Settings, SurveyHome
    from pipelines.runner import run_landed_waves
    from pipelines.terminal import console, report_refresh

    survey_home = SurveyHome(home, Settings.defaults().model_copy(update={"home": home, "settle_seconds": 0}))
    refresh = run_landed_waves(survey_home, log_level="CRITICAL", force=True, only=f"improvement-journey/{WAVE}")
    with console.capture() as printed:
        report_refresh(survey_home, refresh)
    assert "warnings: submission_times_in_fieldwork (its check in the UI)" in printed.get()


@pytest.mark.parametrize("name", sorted(set(CASES["file_level"]) - set(MAX_BYTES)))
def test_a_refused_file_fails_its_dagster_check_and_leaves_earlier_waves(name, dagster_home):
    result = _refused_leaving_earlier_waves(*dagster_home, name)
    check = next(e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == "files_readable")
    assert not check.passed and CASES["file_level"][name] in check.metadata["reason"].value
