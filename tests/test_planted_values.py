"""After every file of the bad-input corpus has been delivered to one home and run by Dagster, none of
the values of the cells it refused is anywhere in the home but its private rooms (landing, archive,
working, secrets): not in the analysts' warehouse, the leadership pack, Dagster's run storage and event
log, or any other file. DuckDB files are queried column by column; workbooks are unzipped; every other
file is searched as bytes. The values searched for are the refused cells' own, as validation reports them
in the private quarantine, less those that ordinary published text (the codebook, the trust list) holds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from assets.dimensions import survey_dimensions
from assets.ingest import wave_responses
from exports import WaveFileRejected
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from schemas.reference import TrustResolver, load_trusts
from tests.wave_runs import SURVEY_ID, home_holding_2023
from validation.engine import text_columns, validate_wave
from validation.quarantine import WORDED_BY_PIPELINE

pytestmark = pytest.mark.dagster
CORPUS = Path(__file__).parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
PRIVATE_ROOMS = {"landing", "archive", "working", "secrets"}
PUBLISHED_TEXT = ((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text(encoding="utf-8")
                  + (Path(__file__).parents[1] / "schemas" / "reference" / "nhs_trusts_england.csv").read_text(encoding="utf-8"))


def _corpus_files() -> list[str]:
    """The corpus files that refuse something: a row (quarantined), the wave, or the file."""
    return sorted([name for name, case in CASES["row_level"].items() if case["quarantined"]]
                  + list(CASES["wave_level"]) + list(CASES["file_level"]))


def _refused_values(codebook, resolver) -> set[str]:
    """The values of every refused cell of the corpus, long and particular enough that finding one means
    it was copied (not a word of the codebook, a trust's name, or a number)."""
    values = set()
    for name in _corpus_files():
        try:
            validation = validate_wave([CORPUS / name], codebook, "2024", resolver)
        except WaveFileRejected:
            continue
        refused = validation.quarantine
        # The pipeline's own words (a superseded row's "same respondent id as ...") and free text, which even
        # the private quarantine keeps only described, are not a cell's value.
        cells = refused[~refused["rule"].isin(WORDED_BY_PIPELINE) & ~refused["column_name"].isin(text_columns(codebook))]
        values |= {str(v).strip() for v in cells["offending_value"].dropna()}
        validation.discard()
    return {v for v in values if len(v) >= 5 and v not in PUBLISHED_TEXT and not v.replace(".", "").isdigit()}


def _files_outside_private_rooms(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and p.relative_to(home).parts[0] not in PRIVATE_ROOMS]


def _found_in_duckdb(path: Path, values: set[str]) -> list[str]:
    found = []
    with duckdb.connect(str(path), read_only=True) as con:
        con.register("planted", pd.DataFrame({"value": sorted(values)}))
        for table, column in con.execute("select table_name, column_name from duckdb_columns() "
                                         "where not internal and data_type = 'VARCHAR' and table_name <> 'planted'"
                                         ).fetchall():
            hits = con.execute(f'select p.value from "{table}" as t join planted as p on contains(t."{column}", p.value) '
                               "limit 3").fetchall()
            found += [f"{path.name} {table}.{column}: {v}" for (v,) in hits]
    return found


def _found_in_bytes(path: Path, values: set[str]) -> list[str]:
    parts = [(path.name, path.read_bytes())]
    if zipfile.is_zipfile(path):  # a workbook: its XML is compressed
        with zipfile.ZipFile(path) as archive:
            parts += [(f"{path.name}:{info.filename}", archive.read(info)) for info in archive.infolist()]
    return [f"{where}: {v}" for where, data in parts for v in values if v.encode() in data]


def test_no_value_of_a_refused_cell_is_anywhere_outside_the_private_rooms(tmp_path, codebook, resolver):
    planted = _refused_values(load_codebook(BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml"), TrustResolver(load_trusts()))
    assert len(planted) >= 5, planted  # enough of the corpus's refused cells to make the search mean something
    home, run = home_holding_2023(tmp_path / "home", persistent=True)
    wave_dir = home / "landing" / SURVEY_ID / "2024"
    outcomes = {}
    # Each file is validated and loaded (or refused) by Dagster, its metadata, logs and failure in the run
    # storage; the file with the most kinds of refusal is delivered last and published, pack included.
    last = "forms_unknown_label_and_unfinished.xlsx"
    for name in [n for n in _corpus_files() if n != last] + [last]:
        if wave_dir.exists():
            for old in wave_dir.iterdir():
                old.unlink()
        wave_dir.mkdir(parents=True, exist_ok=True)
        (wave_dir / name).write_bytes((CORPUS / name).read_bytes())
        outcomes[name] = run("2024", selection=None if name == last else [survey_dimensions, wave_responses]).success
    assert not all(outcomes.values()) and outcomes[last]  # both refusals and loads were searched after
    searched = _files_outside_private_rooms(home)
    assert any(p.suffix == ".duckdb" for p in searched) and any(p.suffix == ".xlsx" for p in searched)
    found = []
    for path in searched:
        found += _found_in_duckdb(path, planted) if path.suffix == ".duckdb" else _found_in_bytes(path, planted)
    assert found == [], "\n".join(found)
