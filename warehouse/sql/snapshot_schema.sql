-- Tables that exist only in the analysts' snapshot: the quarantine as counts, without the refused values.
CREATE TABLE quarantine_counts (
    survey_id    VARCHAR NOT NULL,
    wave_id      VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    rule         VARCHAR NOT NULL,
    column_name  VARCHAR NOT NULL,
    rows_refused BIGINT NOT NULL,
    run_id       VARCHAR NOT NULL
);
