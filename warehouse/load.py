"""Loading one validated wave into the warehouse: replace that wave, and only that wave, atomically.

The valid rows arrive in the wide layout (text cells, option labels); the reshape to long format and the
label → option id lookup run in DuckDB against the ``options`` dimension, so the warehouse and the
codebook cannot disagree. Respondent ids are replaced by their pseudonyms; free text goes to its own
table. Column lists come from the codebook (identifiers checked by its model) and
are quoted; every value is a bound parameter.

Two files are written, one transaction each (``warehouse.connection``): first the private values (the
quarantine, the cleaning log and free text, tagged with the run), then, all or nothing, the wave's
respondents, answers, load log and counts, reconciled against the validation before they commit. The
private rows of the wave's other runs are removed after that, whether it committed or not: the wave's
private rows are always those of its latest load in ``load_log``.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from schemas.codebook import Codebook
from sql_text import identifier
from validation.engine import WaveValidation
from warehouse.connection import PRIVATE, PRIVATE_TABLES, read_sql, transaction
from warehouse.pseudonyms import Pseudonymiser
from warehouse.stop_points import stop_point
from warehouse.trust_counts import count_staged_wave
from warehouse.weighting import Population, weigh_wave

# The wave's rows in the working file (PRIVATE_TABLES in the private one). Names fixed here, never taken from input.
# Those with a row per respondent or answer are the large ones: a publication writes them again only for the waves
# loaded since (the Parquet files, the DuckLake).
RESPONDENT_TABLES = ("respondents", "respondent_fields", "responses", "numeric_responses")
WAVE_TABLES = (*RESPONDENT_TABLES, "weighting_diagnostics")


def _columns(names: list[str]) -> str:
    return ", ".join(identifier(n) for n in names)


def insert_respondents_sql(codebook: Codebook) -> str:
    r = codebook.respondent
    return f"""
        INSERT INTO respondents BY NAME
        SELECT $survey_id AS survey_id, $wave_id AS wave_id, s.{identifier(r.id_column)} AS respondent_id,
               {f"s.{identifier(r.trust.column)}" if r.trust is not None else "NULL"} AS trust_code, s.trust_code_reported,
               s.submitted_at_parsed AS submitted_at, s.source_file, s.source_row
        FROM staged_wave() AS s
    """


def _unpivoted(codebook: Codebook, columns: list[str], name: str, value: str) -> str:
    """The staged wave's columns as (respondent_id, name, value) rows; empty cells are dropped."""
    return f"""(
            SELECT {identifier(codebook.respondent.id_column)} AS respondent_id, {_columns(columns)}
            FROM staged_wave()
        ) UNPIVOT ({value} FOR {name} IN ({_columns(columns)}))"""


def insert_respondent_fields_sql(codebook: Codebook) -> str | None:
    columns = [f.column for f in codebook.respondent.fields]
    if not columns:
        return None
    return f"""
        INSERT INTO respondent_fields
        SELECT $survey_id, $wave_id, a.respondent_id, a.field_id, o.option_id
        FROM {_unpivoted(codebook, columns, "field_id", "label")} AS a
        JOIN options AS o ON o.survey_id = $survey_id AND o.question_id = a.field_id AND o.label = a.label
    """


def insert_single_choice_sql(codebook: Codebook) -> str | None:
    columns = [q.id for q in codebook.questions if q.answer_kind == "single"]
    if not columns:
        return None
    return f"""
        INSERT INTO responses (survey_id, wave_id, respondent_id, question_id, option_id)
        SELECT $survey_id, $wave_id, a.respondent_id, a.question_id, o.option_id
        FROM {_unpivoted(codebook, columns, "question_id", "label")} AS a
        JOIN options AS o
          ON o.survey_id = $survey_id AND o.question_id = a.question_id AND o.label = a.label
    """


def insert_multiple_choice_sql(codebook: Codebook) -> str | None:
    columns = [c for q in codebook.questions for c in q.option_columns]
    if not columns:
        return None
    # Option columns are named <question_id>.<option_id> (ids cannot contain a dot: a codebook rule); the
    # ids come from joining that name to the options dimension, which took half the time of splitting
    # the name of each of 36 million ticks at a million respondents.
    return f"""
        INSERT INTO responses (survey_id, wave_id, respondent_id, question_id, option_id)
        SELECT $survey_id, $wave_id, a.respondent_id, o.question_id, o.option_id
        FROM {_unpivoted(codebook, columns, "option_column", "flag")} AS a
        JOIN (SELECT question_id, option_id, question_id || '.' || option_id AS option_column
              FROM options WHERE survey_id = $survey_id) AS o USING (option_column)
        WHERE a.flag = '1'
    """


def insert_numeric_sql(codebook: Codebook) -> str | None:
    columns = [q.id for q in codebook.questions if q.type == "numeric"]
    if not columns:
        return None
    # Validation made each answer canonical text (``schemas.numbers``): the cast reads it exactly.
    return f"""
        INSERT INTO numeric_responses
        SELECT $survey_id, $wave_id, respondent_id, question_id, CAST(number AS DOUBLE)
        FROM {_unpivoted(codebook, columns, "question_id", "number")}
    """


def insert_text_sql(codebook: Codebook) -> str | None:
    columns = [q.id for q in codebook.questions if q.type == "text"]
    if not columns:
        return None
    return f"""
        INSERT INTO {PRIVATE}.free_text_responses
        SELECT $survey_id, $wave_id, respondent_id, question_id, text, $run_id
        FROM {_unpivoted(codebook, columns, "question_id", "text")}
    """


class WaveDoesNotReconcile(RuntimeError):
    """The warehouse would not hold exactly the rows validated; the load was rolled back."""

    def __init__(self, counts: dict):
        self.counts = counts
        super().__init__(f"rows do not reconcile, load rolled back: {counts}")


def load_wave(
    con: duckdb.DuckDBPyConnection,
    codebook: Codebook,
    wave_id: str,
    validation: WaveValidation,
    run_id: str,
    pseudonymise: Pseudonymiser,
    loaded_at: dt.datetime | None = None,
    archived_as: dict[str, str] | None = None,
    inputs_fingerprint: str | None = None,
    population: Population | None = None,
) -> dict:
    """Replace the wave's respondents, answers (options and numbers), quarantine, cleaning log and free text, and
    log each file:
    the private values in one transaction, then the rest in another, all or nothing.

    Before committing, the rows now in the warehouse are counted against the validation; if they differ
    (rows lost in the reshape, say) the transaction is rolled back and ``WaveDoesNotReconcile`` raised.
    Either way, the private rows of the runs that are not their wave's latest load go after it. Returns
    the reconciliation counts.
    """
    codebook = codebook.for_wave(wave_id)
    loaded_at = loaded_at or dt.datetime.now(dt.UTC)
    params = {"survey_id": codebook.survey_id, "wave_id": wave_id}
    quarantine = validation.quarantine.assign(**params, run_id=run_id)
    quarantine["respondent_id"] = pseudonymise.many(codebook.survey_id, quarantine["respondent_id"])
    cleaning = validation.cleaning.assign(**params, run_id=run_id)
    cleaning["respondent_id"] = pseudonymise.many(codebook.survey_id, cleaning["respondent_id"])
    log = pd.DataFrame(
        [
            {**params, "source_file": f.name, "layout": f.layout, "sha256": f.sha256, "size_bytes": f.size_bytes,
             "rows_read": f.rows_read, "rows_loaded": f.rows_loaded, "rows_quarantined": f.rows_quarantined,
             "codebook_version": codebook.version, "duplicate_of": f.duplicate_of,
             "archived_as": (archived_as or {}).get(f.name), "run_id": run_id, "loaded_at": loaded_at,
             "inputs_fingerprint": inputs_fingerprint, "key_fingerprint": pseudonymise.fingerprint,
             "encoding": f.encoding}
            for f in validation.files
        ]
    )
    con.register("quarantine_rows", quarantine)
    con.register("cleaning_rows", cleaning)
    con.register("load_log_rows", log)
    try:
        _stage_valid_rows(con, codebook, validation, pseudonymise)
        with transaction(con):  # the private values, tagged with the run: the wave's once its load commits
            for table in PRIVATE_TABLES:  # a run loading the wave again replaces its own rows
                con.execute(f"DELETE FROM {PRIVATE}.{table} WHERE survey_id = $survey_id AND wave_id = $wave_id "
                            "AND run_id = $run_id", {**params, "run_id": run_id})
            con.execute(f"INSERT INTO {PRIVATE}.quarantine BY NAME SELECT * FROM quarantine_rows")
            con.execute(f"INSERT INTO {PRIVATE}.cleaning_log BY NAME SELECT * FROM cleaning_rows")
            if insert_text_sql(codebook):
                con.execute(insert_text_sql(codebook), {**params, "run_id": run_id})
        with transaction(con):
            replaced = sum(con.execute(f"DELETE FROM {table} WHERE survey_id = $survey_id AND wave_id = $wave_id",
                                       params).fetchone()[0] for table in WAVE_TABLES)
            if replaced:  # the old rows stay in the file's free blocks until it is rebuilt
                con.execute("INSERT INTO rebuild_reasons VALUES ($reason, now())",
                            {"reason": f"{codebook.survey_id}/{wave_id} loaded again"})
            con.execute(insert_respondents_sql(codebook), params)
            for sql in (insert_respondent_fields_sql(codebook), insert_single_choice_sql(codebook), insert_multiple_choice_sql(codebook),
                        insert_numeric_sql(codebook)):
                if sql:
                    con.execute(sql, params)
            con.execute("INSERT INTO load_log BY NAME SELECT * FROM load_log_rows")
            # Weights that cannot be made refuse the wave, in this transaction. A post-stratified survey's wave
            # given no population loads unweighted (the ingest refuses such a wave before it gets here).
            if codebook.weighting is not None and (population is not None or codebook.weighting.method == "rake"):
                weigh_wave(con, codebook, wave_id, population)
            answers_given = count_staged_wave(con, codebook, wave_id, "staged_rows")  # and the answers the wave gives
            counts = wave_reconciliation(con, codebook.survey_id, wave_id, run_id, answers_given)
            if not counts["reconciles"]:
                raise WaveDoesNotReconcile(counts)
            stop_point("load")
    except BaseException:
        try:
            remove_private_rows_of_other_loads(con)
        except duckdb.Error:
            pass  # the next load or publication removes them; the first error is the one worth reporting
        raise
    else:
        remove_private_rows_of_other_loads(con)
        return counts
    finally:
        for view in ("staged_rows", "quarantine_rows", "cleaning_rows", "load_log_rows"):
            con.unregister(view)
        con.execute("DROP MACRO TABLE IF EXISTS temp.staged_wave")
        con.execute("DROP TABLE IF EXISTS temp.staged_pseudonyms")
        con.execute("DROP VIEW IF EXISTS temp.staged_rows")
        con.execute(f"DETACH DATABASE IF EXISTS {STAGED_DATABASE}")


def remove_private_rows_of_other_loads(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the private rows of every run that is not its wave's latest load (a load that failed or was
    killed after writing them, an earlier load, a withdrawn wave), in one transaction."""
    with transaction(con):
        for table in PRIVATE_TABLES:
            con.execute(f"DELETE FROM {PRIVATE}.{table} AS p WHERE NOT EXISTS (SELECT 1 FROM latest_load_runs() "
                        "AS l WHERE l.survey_id = p.survey_id AND l.wave_id = p.wave_id AND l.run_id = p.run_id)")


STAGED_DATABASE = "staged_wave_database"


def _stage_valid_rows(con, codebook: Codebook, validation: WaveValidation, pseudonymise: Pseudonymiser) -> None:
    """The valid rows as ``staged_rows`` (the submission time parsed) and, through the table macro
    ``staged_wave()``, with respondent ids replaced by their pseudonyms.

    Pseudonyms are computed in SQL (``keyed_pseudonym`` in schema.sql, the same HMAC as
    ``warehouse.pseudonyms``) from the key's pads passed as parameters, once per row into a temporary table
    of row numbers and pseudonyms that each insert joins: computed in each of the four inserts instead,
    they took 1.2 s a pass at a million respondents, the join a few tenths. The valid rows are read from
    their staging database where they are.
    """
    id_column = identifier(codebook.respondent.id_column)
    # ATTACH takes no parameters; the path is the staging folder's own, quoted as a literal.
    database = str(validation.staged.database).replace("'", "''")
    con.execute(f"ATTACH '{database}' AS {STAGED_DATABASE} (READ_ONLY)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW staged_rows AS SELECT * FROM {STAGED_DATABASE}.{validation.staged.table}")
    inner_pad, outer_pad = pseudonymise.pads()  # the key itself never leaves Python
    con.execute(
        "CREATE OR REPLACE TEMP TABLE staged_pseudonyms AS SELECT file_order, source_row, "
        f"keyed_pseudonym($inner_pad, $outer_pad, $survey_id, {id_column}) AS pseudonym FROM staged_rows",
        {"inner_pad": inner_pad, "outer_pad": outer_pad, "survey_id": codebook.survey_id})
    con.execute(
        "CREATE OR REPLACE TEMP MACRO staged_wave() AS TABLE "
        f"SELECT v.* REPLACE (p.pseudonym AS {id_column}) "
        "FROM staged_rows AS v JOIN staged_pseudonyms AS p USING (file_order, source_row)"
    )


def wave_reconciliation(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str, run_id: str,
                        answers_given: int | None = None) -> dict:
    """The load log's counts for a run beside counts of the rows the warehouse holds for the wave.

    Reconciles when rows read = rows loaded + rows quarantined in the log, the log's loaded and
    quarantined counts equal the respondents and distinct quarantined rows actually stored, no
    respondent is stored twice, and (when the load counted them, ``count_staged_wave``) the answers
    stored are the answers given.
    """
    cursor = con.execute(
        read_sql("wave_reconciliation"), {"survey_id": survey_id, "wave_id": wave_id, "run_id": run_id}
    )
    counts = dict(zip([d[0] for d in cursor.description], cursor.fetchone()))
    counts["reconciles"] = bool(
        counts["logged_rows_read"] > 0
        and counts["logged_rows_read"] == counts["logged_rows_loaded"] + counts["logged_rows_quarantined"]
        and counts["logged_rows_loaded"] == counts["respondents_in_warehouse"]
        and counts["respondents_in_warehouse"] == counts["distinct_respondents_in_warehouse"]
        and counts["logged_rows_quarantined"] == counts["rows_in_quarantine"]
        and answers_given in (None, counts["answers_in_warehouse"])
    )
    counts["answers_given"] = answers_given
    return counts
