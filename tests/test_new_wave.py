"""A new wave as a data engineer meets it, through the real `survey` command and real Dagster runs: dropped
with its wave.yaml, or delivered with one `survey ingest` carrying the dates; refused deliveries leave the
landing folder exactly as it was; a wave loaded by mistake is withdrawn; a landing folder that disappears
is reported, and withdrawn only when asked."""

from __future__ import annotations

import getpass
import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.conftest import SURVEY_ID, read_sample, sample_wave_path, write_csv

pytestmark = pytest.mark.dagster


def _survey(*args: str) -> object:
    return CliRunner().invoke(app, list(args), terminal_width=250)


def export_2026(path: Path) -> Path:
    """The 2025 questionnaire delivered again in September 2026: new respondent ids and dates."""
    frame = read_sample("2025")
    frame["respondent_id"] = frame["respondent_id"].str.replace("2025-", "2026-", regex=False)
    frame["submitted_at"] = frame["submitted_at"].str.replace("2025-", "2026-", regex=False)
    return write_csv(frame, path)


def _rows(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "survey.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) with its sha256: the folder exactly."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def published_2023_2024(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("template") / "home"
    for wave_id in ("2023", "2024"):
        target = home / "landing" / SURVEY_ID / wave_id / sample_wave_path(wave_id).name
        target.parent.mkdir(parents=True)
        shutil.copyfile(sample_wave_path(wave_id), target)
    result = _survey("run", "--home", str(home))
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def home(published_2023_2024, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(published_2023_2024, copy)
    return copy


def test_a_new_wave_dropped_with_its_wave_yaml_loads_with_survey_run(home, tmp_path):
    wave_dir = home / "landing" / SURVEY_ID / "2026"
    export_2026(wave_dir / "export.csv")
    undeclared = _survey("run", "--home", str(home))
    assert undeclared.exit_code == 1
    assert f"{SURVEY_ID}/2026: FAILED: step wave_responses: wave '2026' is not declared" in undeclared.output
    assert "Traceback" not in undeclared.output and "Stack Trace" not in undeclared.output

    (wave_dir / "wave.yaml").write_text("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\npopulation_trusts: 203\n")
    declared = _survey("run", "--home", str(home))

    assert declared.exit_code == 0, declared.output
    assert f"{SURVEY_ID}/2026: ok" in declared.output and f"{SURVEY_ID}/2024: up to date" in declared.output
    expected = len(read_sample("2025"))  # every row of the 2025 sample is valid
    assert _rows(home, "select count(*) from respondents where wave_id = '2026'") == [(expected,)]
    assert _rows(home, "select wave_id, fieldwork_start::varchar, population_trusts from waves "
                f"where survey_id = '{SURVEY_ID}' order by wave_order") == [
        ("2023", "2023-09-01", 211), ("2024", "2024-09-02", 209), ("2025", "2025-09-01", 205), ("2026", "2026-09-01", 203)]
    # 2024 is the previous loaded wave; "Financial pressures" is asked in 2026 but was not in 2024
    assert _rows(home, "select previous_wave_id, comparable from indicator_trends where wave_id = '2026' "
                       "and indicator_id = 'trust_barriers.operational_pressures'") == [("2024", False)]
    assert _rows(home, "select count(*) from headline_indicators where wave_id = '2026' "
                       "and indicator_id = 'trust_barriers.financial_pressures'") == [(1,)]
    assert (home / "publish" / SURVEY_ID / "2026" / "manifest.json").is_file()


def test_one_survey_ingest_with_the_dates_declares_and_loads_a_new_wave(home, tmp_path):
    export = export_2026(tmp_path / "delivered_2026.csv")
    result = _survey("ingest", str(export), "--survey", SURVEY_ID, "--wave", "2026", "--fieldwork-start", "2026-09-01",
                     "--fieldwork-end", "2026-09-30", "--population-trusts", "203", "--home", str(home))

    assert result.exit_code == 0, result.output
    rows = len(read_sample("2025"))
    assert f"delivered_2026.csv: layout plain_csv, UTF-8; {rows} rows read, {rows} loaded, 0 quarantined" in result.output
    settings = (home / "landing" / SURVEY_ID / "2026" / "wave.yaml").read_text()
    assert "fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\npopulation_trusts: 203\n" in settings
    assert sorted(p.name for p in (home / "landing" / SURVEY_ID / "2026").iterdir()) == ["delivered_2026.csv", "wave.yaml"]
    assert _rows(home, "select count(*) from respondents where wave_id = '2026'") == [(rows,)]


def test_ingest_refuses_an_undeclared_wave_saying_both_ways_and_touching_nothing(home, tmp_path):
    before = _tree(home / "landing")
    result = _survey("ingest", str(export_2026(tmp_path / "x.csv")), "--survey", SURVEY_ID, "--wave", "2026",
                     "--home", str(home))
    assert result.exit_code == 1
    assert result.output.startswith("REJECTED: wave '2026' is not declared for survey improvement-journey")
    assert "--fieldwork-start YYYY-MM-DD --fieldwork-end YYYY-MM-DD" in result.output and "`waves:`" in result.output
    assert _tree(home / "landing") == before


def test_ingest_refuses_a_file_that_is_not_an_export_before_writing_anything(home, tmp_path):
    before = _tree(home / "landing")
    notes = tmp_path / "notes.txt"
    notes.write_text("respondent_id,submitted_at\n")
    result = _survey("ingest", str(notes), "--survey", SURVEY_ID, "--wave", "2026", "--fieldwork-start", "2026-09-01",
                     "--fieldwork-end", "2026-09-30", "--home", str(home))
    assert result.exit_code == 1
    assert result.output.strip() == "REJECTED: notes.txt: not an export file: the name must end in .csv, .xlsx, .xlsm, .sav " \
                                    "and not start with '.'"
    assert _tree(home / "landing") == before and not (home / "landing" / SURVEY_ID / "2026").exists()


def test_a_refused_delivery_leaves_the_landing_folder_and_its_wave_yaml_exactly_as_they_were(home, tmp_path):
    wave_dir = home / "landing" / SURVEY_ID / "2024"
    (wave_dir / "wave.yaml").write_bytes(b"# kept by the survey team\r\nlayout: plain_csv\r\n")
    before = _tree(home / "landing")
    published = (home / "warehouse" / "survey.duckdb").read_bytes()
    broken = write_csv(read_sample("2024").drop(columns=["role"]), tmp_path / "broken.csv")

    result = _survey("ingest", str(broken), "--survey", SURVEY_ID, "--wave", "2024", "--fieldwork-end", "2024-09-27",
                     "--home", str(home))

    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith("REJECTED")]
    assert "broken.csv: required columns are missing: role" in line and ".pending" not in line
    assert _tree(home / "landing") == before  # wave.yaml byte for byte, no pending folder left
    assert (home / "warehouse" / "survey.duckdb").read_bytes() == published


def test_ingest_merges_into_a_wave_yaml_and_never_deletes_it(home, tmp_path):
    wave_dir = home / "landing" / SURVEY_ID / "2026"
    wave_dir.mkdir(parents=True)
    (wave_dir / "wave.yaml").write_text("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\nlayout: qualtrics\n")
    result = _survey("ingest", str(export_2026(tmp_path / "plain.csv")), "--survey", SURVEY_ID, "--wave", "2026",
                     "--population-trusts", "198", "--home", str(home))
    assert result.exit_code == 0, result.output
    settings = (wave_dir / "wave.yaml").read_text()
    # the dates kept, the population added, and the old layout dropped: it described the previous file
    assert "fieldwork_start: 2026-09-01" in settings and "population_trusts: 198" in settings
    assert "layout" not in settings.split("\n", 2)[2]
    assert _rows(home, "select population_trusts from waves where wave_id = '2026'") == [(198,)]


def test_a_wave_loaded_by_mistake_is_withdrawn_and_its_file_landed_again_under_the_right_wave(home, tmp_path):
    """The 2026 export was ingested as wave 2025: withdraw 2025, land the file as 2026."""
    export = export_2026(tmp_path / "export_2026.csv")
    caught = _survey("ingest", str(export), "--survey", SURVEY_ID, "--wave", "2025", "--home", str(home))
    assert caught.exit_code == 1  # its times are a year after the wave's fieldwork
    assert caught.output.strip().splitlines()[-1].startswith(
        "REJECTED: step wave_responses: Wave 2025 refused, nothing of it loaded: 118 of 118 submission times (100%) "
        "fall outside the wave's fieldwork, 2025-09-01 to 2025-09-26 (Europe/London)")
    # Forced past that refusal, as a mistake can be.
    assert _survey("ingest", str(export), "--survey", SURVEY_ID, "--wave", "2025", "--accept-times-outside-fieldwork",
                   "--home", str(home)).exit_code == 0
    [(load_run,)] = _rows(home, "select distinct run_id from load_log where wave_id = '2025'")
    assert (home / "publish" / SURVEY_ID / "2025").is_dir()

    removed = _survey("wave", "remove", SURVEY_ID, "2025", "--yes", "--home", str(home))

    assert removed.exit_code == 0, removed.output
    assert not (home / "landing" / SURVEY_ID / "2025").exists()
    [archived] = (home / "archive" / SURVEY_ID / "2025").glob("removed-*/landing/export_2026.csv")
    assert archived.read_bytes() == export.read_bytes()
    for table in ("respondents", "responses", "headline_indicators", "indicator_breakdowns", "load_log"):
        assert _rows(home, f"select count(*) from {table} where wave_id = '2025'") == [(0,)], table
    assert _rows(home, "select count(*) from indicator_trends where '2025' in (wave_id, previous_wave_id)") == [(0,)]
    assert _rows(home, "select wave_id, removed_by, load_run_ids, source_files, respondents from wave_removals") == [
        ("2025", getpass.getuser(), [load_run], ["export_2026.csv"], len(read_sample("2025")))]
    assert not (home / "publish" / SURVEY_ID / "2025").exists()  # the pack showing it is archived
    assert list((home / "archive" / SURVEY_ID / "2025").glob("removed-*/publish/2025/manifest.json"))
    latest_pack = pd.read_csv(home / "publish" / SURVEY_ID / "2024" / "indicator_trends.csv")
    assert set(latest_pack["wave"].astype(str)) == {"2023", "2024"}

    again = _survey("ingest", str(archived), "--survey", SURVEY_ID, "--wave", "2026", "--fieldwork-start",
                    "2026-09-01", "--fieldwork-end", "2026-09-30", "--home", str(home))
    assert again.exit_code == 0, again.output
    assert _rows(home, "select wave_id, count(*) from respondents group by 1 order by 1") == [
        ("2023", len(read_sample("2023"))), ("2024", len(read_sample("2024"))), ("2026", len(read_sample("2025")))]

    listing = _survey("wave", "list", "--home", str(home))
    assert listing.exit_code == 0, listing.output
    blocks = re.split(f"^{SURVEY_ID}/", listing.output, flags=re.MULTILINE)[1:]
    assert [b.split(":")[0] for b in blocks] == ["2023", "2024", "2025", "2026"]  # fieldwork order
    assert blocks[2].startswith("2025: withdrawn ") and f" by {getpass.getuser()} " in blocks[2]
    assert blocks[3].startswith("2026: published\n  declared in wave.yaml; fieldwork 2026-09-01 to 2026-09-30\n"
                                "  files: export_2026.csv\n  last load: ")
    assert f"{len(read_sample('2025'))} loaded, 0 quarantined" in blocks[3]


def test_withdrawing_needs_confirmation_and_something_to_withdraw(home):
    refused = _survey("wave", "remove", SURVEY_ID, "2024", "--home", str(home))  # no terminal to ask on
    assert refused.exit_code == 2 and "add --yes" in refused.output
    nothing = _survey("wave", "remove", SURVEY_ID, "2031", "--yes", "--home", str(home))
    assert nothing.exit_code == 1 and "nothing to withdraw" in nothing.output
    assert _rows(home, "select count(*) from respondents where wave_id = '2024'") == [(len(read_sample("2024")),)]


def test_a_landing_folder_that_disappears_is_reported_and_withdrawn_only_with_prune(home, tmp_path):
    shutil.move(home / "landing", tmp_path / "unmounted")  # the whole volume gone
    reported = _survey("run", "--home", str(home))
    assert reported.exit_code == 0, reported.output
    missing = [line for line in reported.output.splitlines() if "MISSING" in line]
    assert [line.split(":")[0] for line in missing] == [f"{SURVEY_ID}/2023", f"{SURVEY_ID}/2024"]
    assert "`survey run --prune` withdraws it" in missing[0]
    (home / "landing" / SURVEY_ID).mkdir(parents=True)  # a mount point left empty: every wave missing
    unmounted = _survey("run", "--prune", "--home", str(home))
    assert unmounted.exit_code == 0, unmounted.output
    assert [line for line in unmounted.output.splitlines() if "NOT WITHDRAWN" in line][0].startswith(
        f"{SURVEY_ID}/2023: MISSING, NOT WITHDRAWN: every wave of {SURVEY_ID} is missing from the landing folder")
    assert _rows(home, "select wave_id, count(*) from respondents group by 1 order by 1") == [
        ("2023", len(read_sample("2023"))), ("2024", len(read_sample("2024")))]
    shutil.rmtree(home / "landing")

    shutil.move(tmp_path / "unmounted", home / "landing")
    shutil.rmtree(home / "landing" / SURVEY_ID / "2024")
    pruned = _survey("run", "--prune", "--home", str(home))
    assert pruned.exit_code == 0, pruned.output
    assert f"{SURVEY_ID}/2024: withdrawn" in pruned.output
    assert _rows(home, f"select distinct wave_id from respondents where survey_id = '{SURVEY_ID}'") == [("2023",)]
    assert _rows(home, "select reason from wave_removals") == [("landing folder gone: withdrawn by `survey run --prune`",)]


@pytest.mark.processes
@pytest.mark.parametrize("stage", ["ingest", "validation"])
def test_an_ingest_killed_before_or_after_promotion_is_settled_by_the_next_command(stage, home, tmp_path):
    """Killed before the file was promoted, the delivery is rolled back (wave.yaml included); killed after,
    the file is the wave's and the next run loads it."""
    import signal

    from tests.processes import run_survey, start_survey, survey_env, wait_for_file
    from warehouse.stop_points import STOP_AT_ENV, STOP_FILE_ENV

    before = _tree(home / "landing")
    marker = tmp_path / "stopped"
    export = write_csv(read_sample("2024").head(100), tmp_path / "corrected_2024.csv")
    ingest = start_survey(home, "ingest", str(export), "--survey", SURVEY_ID, "--wave", "2024",
                          "--fieldwork-start", "2024-09-02", "--fieldwork-end", "2024-09-27",
                          env=survey_env(**{STOP_AT_ENV: stage, STOP_FILE_ENV: str(marker)}))
    wait_for_file(marker, ingest)
    ingest.send_signal(signal.SIGKILL)
    ingest.wait(timeout=30)

    after = run_survey(home, "run")
    assert after.returncode == 0, after.stdout + after.stderr
    wave_dir = home / "landing" / SURVEY_ID / "2024"
    if stage == "ingest":
        assert f"{SURVEY_ID}/2024: rolled back an interrupted delivery" in after.stdout
        assert _tree(home / "landing") == before
        assert f"{SURVEY_ID}/2024: up to date" in after.stdout
    else:
        assert f"{SURVEY_ID}/2024: ok" in after.stdout
        assert sorted(p.name for p in wave_dir.iterdir()) == ["corrected_2024.csv", "wave.yaml"]
        assert _rows(home, "select count(*) from respondents where wave_id = '2024'") == [(100,)]


def test_a_withdrawal_that_was_not_published_is_published_by_the_next_run(home):
    """Killed (or failed) between taking the wave out of the working database and publishing: the next
    `survey run`, with nothing to load, publishes the warehouse without it."""
    from home.settings import SurveyHome
    from pipelines.waves import withdraw_wave

    withdraw_wave(SurveyHome(home), SURVEY_ID, "2024", reason="a test")  # no publication after it
    assert _rows(home, f"select distinct wave_id from respondents where survey_id = '{SURVEY_ID}' order by 1") == [("2023",), ("2024",)]
    working = home / "working" / "improvement-journey" / "survey.duckdb"
    with duckdb.connect(str(working), read_only=True) as con:  # its rows are in the file's free blocks until...
        assert con.execute("select reason from rebuild_reasons").fetchall() == [(f"{SURVEY_ID}/2024 withdrawn",)]
    inode = working.stat().st_ino

    result = _survey("run", "--home", str(home))

    assert result.exit_code == 0, result.output
    assert working.stat().st_ino != inode  # ...rebuilt, before the file analysts get is copied from it
    assert "trends, analysts' warehouse and pack: ok" in result.output
    assert _rows(home, f"select distinct wave_id from respondents where survey_id = '{SURVEY_ID}'") == [("2023",)]
    assert _rows(home, f"select distinct wave_id from waves where survey_id = '{SURVEY_ID}' order by 1") == [("2023",), ("2024",), ("2025",)]
    assert _rows(home, "select wave_id from wave_removals") == [("2024",)]


def test_a_survey_whose_every_wave_is_withdrawn_is_published_once_and_then_left_alone(home):
    """Each survey is published by runs of its own, and a survey with no wave left is published with no row in
    `publications`: its latest publication with a row still names the withdrawn waves. Read from the published file,
    where the withdrawals are, they are gone; so the next runs have nothing to do, rather than publishing for ever."""
    for wave_id in ("2023", "2024"):
        removed = _survey("wave", "remove", SURVEY_ID, wave_id, "--yes", "--home", str(home))
        assert removed.exit_code == 0, removed.output
    assert _rows(home, "select count(*) from respondents") == [(0,)]

    for _ in range(2):
        again = _survey("run", "--home", str(home))
        assert again.exit_code == 0, again.output
        assert "trends, analysts' warehouse and pack" not in again.output, again.output  # nothing to publish


def test_a_wave_the_codebook_names_cannot_be_withdrawn_while_only_its_wave_yaml_declares_it(home, tmp_path):
    import yaml

    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR

    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text())
    raw["questions"][0]["asked_from"] = "2026"
    (home / "codebooks").mkdir()
    (home / "codebooks" / f"{SURVEY_ID}.yaml").write_text(yaml.safe_dump(raw))
    wave_dir = home / "landing" / SURVEY_ID / "2026"
    export_2026(wave_dir / "export.csv")
    (wave_dir / "wave.yaml").write_text("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\n")

    refused = _survey("wave", "remove", SURVEY_ID, "2026", "--yes", "--home", str(home))

    assert refused.exit_code == 1
    assert refused.output.startswith(f"REFUSED: {SURVEY_ID}/2026: the codebook names wave 2026 (trust_approach_stage)")
    assert (wave_dir / "wave.yaml").is_file() and not (home / "archive" / SURVEY_ID / "2026").exists()


def test_a_withdrawal_killed_after_its_files_moved_is_finished_in_the_same_folder(home):
    moved = home / "archive" / SURVEY_ID / "2024" / "removed-20261201T090000000000Z" / "landing"
    moved.parent.mkdir(parents=True)
    shutil.move(home / "landing" / SURVEY_ID / "2024", moved)  # as far as the killed command got

    result = _survey("wave", "remove", SURVEY_ID, "2024", "--yes", "--home", str(home))

    assert result.exit_code == 0, result.output
    assert _rows(home, "select archived_to from wave_removals") == [
        (f"archive/{SURVEY_ID}/2024/removed-20261201T090000000000Z",)]
    assert [p.name for p in (home / "archive" / SURVEY_ID / "2024").glob("removed-*")] == [moved.parent.name]


def test_a_fault_in_one_surveys_declarations_stops_only_that_survey(home, tmp_path):
    import yaml

    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR

    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text())
    raw["survey_id"], raw["version"] = "staff-pulse", "1"
    (home / "codebooks").mkdir()
    (home / "codebooks" / "staff-pulse.yaml").write_text(yaml.safe_dump(raw))
    target = home / "landing" / "staff-pulse" / "2024" / "export.csv"
    target.parent.mkdir(parents=True)
    shutil.copyfile(sample_wave_path("2024"), target)
    broken = home / "landing" / SURVEY_ID / "2024" / "wave.yaml"
    broken.write_text("fieldwork_end: 2024-09-30\n")  # disagrees with the codebook

    result = _survey("run", "--home", str(home))

    assert result.exit_code == 1
    assert "staff-pulse/2024: ok" in result.output
    failed = [line for line in result.output.splitlines() if line.startswith(f"{SURVEY_ID}/")]
    assert failed and all("FAILED" in line and str(broken) in line for line in failed), result.output
    assert _rows(home, "select survey_id, count(*) from respondents group by 1 order by 1") == [
        (SURVEY_ID, len(read_sample("2023")) + len(read_sample("2024"))), ("staff-pulse", len(read_sample("2024")))]
    listing = _survey("wave", "list", "--home", str(home))
    assert listing.output.startswith(f"{SURVEY_ID}: CODEBOOK ERROR: wave '2024' is declared in both")
