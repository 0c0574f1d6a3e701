-- Tables that exist only in the analysts' snapshot: the quarantine and the cleaning log as counts, without
-- the values refused or cleaned away.
CREATE TABLE quarantine_counts (
    survey_id    VARCHAR NOT NULL,
    wave_id      VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    rule         VARCHAR NOT NULL,
    column_name  VARCHAR NOT NULL,
    rows_refused BIGINT NOT NULL,
    run_id       VARCHAR NOT NULL
);

-- The cleaning log as counts: how many cells each rule cleaned away in each column of each file.
CREATE TABLE cleaning_counts (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    source_file   VARCHAR NOT NULL,
    rule          VARCHAR NOT NULL,
    column_name   VARCHAR NOT NULL,
    cells_cleaned BIGINT NOT NULL,
    run_id        VARCHAR NOT NULL
);
