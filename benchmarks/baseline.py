"""The bare-DuckDB baseline: the least work any pipeline must do with a wave, done in DuckDB alone.

Read the CSV; check every answer against its question's allowed labels (or 0/1 for an option column);
reshape to one row per respondent per option chosen in a file database; compute each option's
percentage of its question's respondents. No validation report, no quarantine, no pseudonyms, no
orchestration: the floor against which the pipeline's time and memory are compared.

Run as ``python -m benchmarks.baseline CODEBOOK WAVE_ID CSV DATABASE``; prints the counts as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pandas as pd

from schemas.codebook_files import load_codebook


def allowed_cells(codebook, wave_id: str) -> pd.DataFrame:
    """Every allowed cell of every question column, with the question and option it stands for."""
    rows = []
    for question in codebook.for_wave(wave_id).questions:
        if question.answer_kind == "single":
            rows += [(question.id, o.label, question.id, o.id) for o in question.options]
        elif question.type == "multiple":
            for column, option in zip(question.option_columns, question.options):
                rows += [(column, "1", question.id, option.id), (column, "0", question.id, None)]
    return pd.DataFrame(rows, columns=["column_name", "cell", "question_id", "option_id"])


def run_baseline(codebook_path: Path, wave_id: str, csv_path: Path, database: Path) -> dict:
    codebook = load_codebook(codebook_path)
    allowed = allowed_cells(codebook, wave_id)
    columns = list(dict.fromkeys(allowed["column_name"]))
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        con.register("allowed_frame", allowed)
        con.execute("CREATE TABLE allowed AS SELECT * FROM allowed_frame")
        con.execute("CREATE TABLE wave AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
                    [str(csv_path)])
        quoted = [f'"{c}"' for c in columns]  # identifiers from the codebook; allowed values are parameters
        checks = " + ".join(f"count_if({q} IS NOT NULL AND NOT list_contains(${i}, {q}))"
                            for i, q in enumerate(quoted, start=1))
        allowed_lists = [allowed.loc[allowed["column_name"] == c, "cell"].tolist() for c in columns]
        refused = con.execute(f"SELECT {checks} FROM wave", allowed_lists).fetchall()[0][0]
        unpivot = ", ".join(quoted)
        con.execute(
            f"CREATE TABLE responses AS SELECT c.respondent_id, a.question_id, a.option_id "
            f"FROM (UNPIVOT (SELECT respondent_id, {unpivot} FROM wave) ON {unpivot} "
            f"      INTO NAME column_name VALUE cell) AS c "
            f"JOIN allowed AS a USING (column_name, cell) WHERE a.option_id IS NOT NULL"
        )
        shares = con.execute(
            """
            SELECT question_id, option_id,
                   100.0 * count(*) / max(answered) AS pct
            FROM responses
            JOIN (SELECT question_id, count(DISTINCT respondent_id) AS answered FROM responses GROUP BY ALL)
                USING (question_id)
            GROUP BY ALL
            """
        ).fetchall()
        long_rows = con.execute("SELECT count(*) FROM responses").fetchall()[0][0]
        respondents = con.execute("SELECT count(*) FROM wave").fetchall()[0][0]
    return {"respondents": respondents, "long_rows": long_rows, "refused_cells": refused, "shares": len(shares)}


if __name__ == "__main__":
    codebook_path, wave_id, csv_path, database = sys.argv[1:5]
    print(json.dumps(run_baseline(Path(codebook_path), wave_id, Path(csv_path), Path(database))))
