-- The private values of the working database, in a file of their own (<home>/working/private.duckdb, attached
-- as `private`): never copied for analysts, who see them counted (quarantine_counts, cleaning_counts).
-- Each row carries the run that loaded it. A load writes them before the wave's respondents and answers, in a
-- transaction of their own (DuckDB writes one file per transaction), and removes the rows of the wave's other
-- runs once its own transaction has committed or rolled back (warehouse/load.py): until then, the rows of the
-- wave's latest load in load_log are the wave's.

-- Free-text answers apart from the closed answers: they can name people or carry personal stories.
CREATE TABLE IF NOT EXISTS private.free_text_responses (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    respondent_id VARCHAR NOT NULL,
    question_id   VARCHAR NOT NULL,
    text          VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL
);

-- Refused rows: one row per failing cell or rule, with the value as delivered (free text described).
CREATE TABLE IF NOT EXISTS private.quarantine (
    survey_id       VARCHAR NOT NULL,
    wave_id         VARCHAR NOT NULL,
    source_file     VARCHAR NOT NULL,
    source_row      INTEGER NOT NULL,  -- row as a person sees it in the file, header row counted
    respondent_id   VARCHAR,           -- pseudonym, as in `respondents`
    column_name     VARCHAR NOT NULL,
    rule            VARCHAR NOT NULL,
    offending_value VARCHAR,
    kept_source_file VARCHAR,          -- for `superseded`: the file and row of the submission kept
    kept_source_row  INTEGER,
    reason          VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL
);

-- Cells of loaded rows that were not stored, with the reason: an answer given where the routing says the
-- question was not asked (rule not_routed). The row loads; its other answers stand. The value is as delivered
-- (free text described).
CREATE TABLE IF NOT EXISTS private.cleaning_log (
    survey_id       VARCHAR NOT NULL,
    wave_id         VARCHAR NOT NULL,
    source_file     VARCHAR NOT NULL,
    source_row      INTEGER NOT NULL,
    respondent_id   VARCHAR,           -- pseudonym, as in `respondents`
    column_name     VARCHAR NOT NULL,
    rule            VARCHAR NOT NULL,
    offending_value VARCHAR,
    run_id          VARCHAR NOT NULL
);
