"""No value of a refused cell outside private storage: a name, an email, a phone number and a markdown image
link typed into the trust, role and submission-time cells of waves of three kinds (a Microsoft Forms export,
a plain CSV with a row cut short, a plain CSV delivered by `survey ingest`), run through the real `survey` command,
are then nowhere in the home outside ``landing/``, ``archive/``, ``working/`` and ``secrets/``: not in
Dagster's run and event storage, not in the analysts' warehouse, not in the leadership pack, not on the
terminal. They are in the quarantine of the working database's private file, and Dagster's metadata still says where they were.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from home.settings import SurveyHome
from pipelines.instance import instance_for
from tests.conftest import SURVEY_ID, read_sample, write_csv
from tests.processes import run_survey, survey_env

pytestmark = pytest.mark.processes

NAME = "Margaret Okonkwo-Hale"
EMAIL = "m.okonkwo-hale@example.nhs.uk"
PHONE = "07700 900461"
IMAGE = "![x](http://198.51.100.7/pixel.png)"
IN_SHORT_ROW = "Rosalind Fairweather-Ng"  # in a row cut short, which DuckDB's reader quotes in its errors
IN_DAMAGED_CELL = "Ifeoma Brandt-Castellanos"  # in a damaged workbook cell, which openpyxl quotes in its errors
VALUES = [NAME, EMAIL, PHONE, IMAGE, IN_SHORT_ROW, IN_DAMAGED_CELL]

# How each value is described wherever a refused value is shown (typed in: length and kinds of character).
DESCRIBED = {
    NAME: "21 characters: letters, spaces and punctuation",
    EMAIL: "29 characters: letters and punctuation",
    PHONE: "12 characters: digits and spaces",
    IMAGE: "35 characters: letters, digits and punctuation",
}

FORMS, CUT_SHORT, STAGED = "forms_2023.xlsx", "wave_2024.csv", "wave_2025.csv"
HEADER_CELLS = len(read_sample("2024").columns)
# (wave, file, row as a person sees it, column, rule, value kept in the private quarantine)
REFUSED = {
    ("2023", FORMS, 6, "trust_code", "known_trust_code", EMAIL),
    ("2023", FORMS, 11, "trust_barriers", "allowed_option_label", NAME),  # an unknown label in a joined cell
    ("2023", FORMS, 16, "role", "allowed_option_label", IMAGE),
    ("2023", FORMS, 20, "submitted_at", "timestamp_parses", PHONE),
    ("2024", CUT_SHORT, 5, "trust_code", "known_trust_code", NAME),
    ("2024", CUT_SHORT, 9, "role", "allowed_option_label", EMAIL),
    ("2024", CUT_SHORT, 13, "submitted_at", "timestamp_parses", PHONE),
    ("2024", CUT_SHORT, 17, "role", "allowed_option_label", IMAGE),
    ("2024", CUT_SHORT, 21, "(whole row)", "field_count", f"3 cells; the header has {HEADER_CELLS}"),
    ("2025", STAGED, 4, "trust_code", "known_trust_code", IMAGE),
    ("2025", STAGED, 7, "role", "allowed_option_label", NAME),
    ("2025", STAGED, 10, "submitted_at", "timestamp_parses", EMAIL),
    ("2025", STAGED, 14, "trust_code", "known_trust_code", PHONE),
}
PRIVATE_PLACES = ("landing", "archive", "working", "secrets")


def _forms_export(path: Path, codebook) -> Path:
    """The 2023 sample as a Microsoft Forms export, with values typed into four cells."""
    from openpyxl import load_workbook

    from tests.exports import BUILDERS

    build, _ = BUILDERS["microsoft_forms"]
    questionnaire = codebook.for_wave("2023")
    path.parent.mkdir(parents=True, exist_ok=True)
    build(read_sample("2023"), questionnaire, path)
    book = load_workbook(path)
    sheet = book.active
    column = {cell.value: cell.column for cell in sheet[1]}
    respondent = questionnaire.respondent
    sheet.cell(6, column[respondent.trust.wording]).value = EMAIL
    joined = sheet.cell(11, column[questionnaire.question("trust_barriers").wording])
    assert joined.value  # a required question: ticked options, to which an unknown label is added
    joined.value = f"{joined.value}{NAME};"
    sheet.cell(16, column[respondent.field("role").wording]).value = IMAGE
    sheet.cell(20, column["Completion time"]).value = PHONE
    book.save(path)
    return path


def _cut_short_csv(path: Path) -> Path:
    rows = read_sample("2024")
    rows.loc[3, "trust_code"] = NAME
    rows.loc[7, "role"] = EMAIL
    rows.loc[11, "submitted_at"] = PHONE
    rows.loc[15, "role"] = IMAGE
    write_csv(rows, path)
    lines = path.read_text().split("\n")
    lines[20] = f"{rows.loc[19, 'respondent_id']},{rows.loc[19, 'submitted_at']},{IN_SHORT_ROW}"  # file row 21
    path.write_text("\n".join(lines))
    return path


def _staged_csv(path: Path) -> Path:
    rows = read_sample("2025")
    rows.loc[2, "trust_code"] = IMAGE
    rows.loc[5, "role"] = NAME
    rows.loc[8, "submitted_at"] = EMAIL
    rows.loc[12, "trust_code"] = PHONE
    return write_csv(rows, path)


def _damaged_workbook(path: Path) -> Path:
    """A Forms-like workbook whose numeric cell holds text, as a damaged or hand-edited file can."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["ID", "Start time", "Completion time"])
    book.active.append(["1", 45170.25, 45170.5])
    book.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    assert "<v>45170.25</v>" in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.replace("<v>45170.25</v>", f"<v>{IN_DAMAGED_CELL}</v>").encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def refused(tmp_path_factory, codebook):
    """A home after `survey run` (waves 2023 and 2024 landed), `survey ingest` of wave 2025 and `survey
    ingest` of a damaged workbook."""
    home = tmp_path_factory.mktemp("refused") / "home"
    delivered = tmp_path_factory.mktemp("delivered")
    landing = home / "landing" / SURVEY_ID
    _forms_export(landing / "2023" / FORMS, codebook)
    _cut_short_csv(landing / "2024" / CUT_SHORT)
    env = survey_env()
    run = run_survey(home, "run", env=env)
    ingest = run_survey(home, "ingest", str(_staged_csv(delivered / STAGED)), "--survey", SURVEY_ID,
                        "--wave", "2025", env=env)
    damaged = run_survey(home, "ingest", str(_damaged_workbook(delivered / "damaged.xlsx")), "--survey", SURVEY_ID,
                         "--wave", "2023", env=env)
    return home, {"run": run, "ingest": ingest, "damaged": damaged}


def _in_duckdb(path: Path, values: list[str]) -> list[str]:
    """Text columns (and lists, structs, JSON of text) of every table and view holding one of ``values``:
    DuckDB compresses strings, so the file's bytes alone would not show them."""
    found = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where not internal and (data_type like '%VARCHAR%' or data_type like '%JSON%')"
        ).fetchall()
        assert columns, f"{path}: no text column to search"
        for schema, table, column in columns:
            for value in values:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" where contains(cast("{column}" as varchar), ?)',
                    [value]).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}: {value!r}")
    return found


def _in_sqlite(path: Path, values: list[str], scratch: Path) -> list[str]:
    """Every column of every table of a SQLite file (Dagster's run and event storage) holding one of
    ``values``, its write-ahead log included: a long event can be split across overflow pages."""
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / path.name
    for suffix in ("", "-wal"):
        if path.with_name(path.name + suffix).exists():
            shutil.copyfile(path.with_name(path.name + suffix), copy.with_name(copy.name + suffix))
    found = []
    con = sqlite3.connect(copy)
    try:
        tables = [t for (t,) in con.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            for column in [c[1] for c in con.execute(f'pragma table_info("{table}")')]:
                for value in values:
                    hits = con.execute(f'select count(*) from "{table}" where instr(cast("{column}" as text), ?) > 0',
                                       [value]).fetchone()[0]
                    if hits:
                        found.append(f"{table}.{column}: {value!r}")
    finally:
        con.close()
    return found


def places_holding(home: Path, values: list[str], scratch: Path) -> list[str]:
    """Every file of the home outside its private places whose bytes, tables or zipped members hold one of
    ``values`` (as written, or escaped as JSON writes it)."""
    needles = {v: {v.encode(), json.dumps(v)[1:-1].encode()} for v in values}
    found, searched = [], 0
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        relative = path.relative_to(home)
        if relative.parts[0] in PRIVATE_PLACES:
            continue
        searched += 1
        data = path.read_bytes()
        found += [f"{relative}: {v!r} in its bytes" for v, forms in needles.items() if any(f in data for f in forms)]
        if data[8:12] == b"DUCK":
            found += [f"{relative}: {hit}" for hit in _in_duckdb(path, values)]
        elif data.startswith(b"SQLite format 3\x00"):
            found += [f"{relative}: {hit}" for hit in _in_sqlite(path, values, scratch / str(searched))]
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    content = archive.read(member)
                    found += [f"{relative}!{member}: {v!r}" for v, forms in needles.items()
                              if any(f in content for f in forms)]
    assert searched > 10, f"only {searched} files searched: did the runs write their storage?"
    return found


def test_the_commands_ran_and_say_what_was_refused_without_a_value(refused):
    _, results = refused
    run, ingest, damaged = results["run"], results["ingest"], results["damaged"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{SURVEY_ID}/2023: ok" in run.stdout and f"{SURVEY_ID}/2024: ok" in run.stdout
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    assert f"{STAGED}: layout plain_csv, UTF-8; 118 rows read, 114 loaded, 4 quarantined" in ingest.stdout
    assert "quarantined for known_trust_code: 2 rows" in ingest.stdout
    assert damaged.returncode == 1
    assert "REJECTED:" in damaged.stdout and "not a readable Excel workbook" in damaged.stdout
    for name, result in results.items():
        output = result.stdout + result.stderr
        assert [v for v in VALUES if v in output] == [], f"survey {name} printed a refused value:\n{output}"


def test_refused_values_are_in_the_private_quarantine_and_nowhere_else(refused, tmp_path):
    home, _ = refused
    assert (home / "dagster").is_dir() and (home / "publish").is_dir() and (home / "warehouse").is_dir()
    assert places_holding(home, VALUES, tmp_path) == []
    # Nothing lost: the engineer finds every refused row, with the value as delivered, in the working
    # database's private file.
    with duckdb.connect(str(home / "working" / "improvement-journey" / "private.duckdb"), read_only=True) as con:
        stored = set(con.execute(
            "select wave_id, source_file, source_row, column_name, rule, offending_value from quarantine").fetchall())
    assert stored == REFUSED


def _wave_metadata(home: Path, wave_id: str) -> dict:
    with instance_for(SurveyHome(home)) as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("wave_responses"), asset_partitions=[f"{SURVEY_ID}/{wave_id}"]),
            limit=1).records
    return records[0].asset_materialization.metadata


def test_the_metadata_says_where_each_refused_value_was_and_describes_it(refused):
    home, _ = refused
    for wave_id in ("2023", "2024", "2025"):
        metadata = _wave_metadata(home, wave_id)
        preview = metadata["quarantine"].value
        for wave, file, row, column, rule, value in REFUSED:
            if wave != wave_id:
                continue
            line = next((li for li in preview.splitlines() if li.startswith(f"- {file} row {row}, column {column}: ")),
                        None)
            assert line is not None, preview
            shown = value if rule == "field_count" else DESCRIBED[value]
            assert line.endswith(f"(rule {rule}; value: {shown})"), line


def test_why_duckdb_did_not_read_a_file_is_logged_in_words_of_its_own(refused):
    home, _ = refused
    with instance_for(SurveyHome(home)) as instance:
        run_id = next(r.run_id for r in instance.get_runs() if r.tags.get("wave_id") == "2024")
        messages = [e.user_message for e in instance.all_logs(run_id)]
    expected = (f"{CUT_SHORT} read by the plain-CSV reader: a row with more or fewer cells than the header "
                "(line 21 of the file)")
    assert any(re.search(re.escape(expected), m) for m in messages), messages
