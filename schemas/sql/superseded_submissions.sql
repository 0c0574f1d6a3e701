-- Earlier submissions of a respondent, among the rows that pass every other rule (view `submissions`).
-- The latest submission is kept: by submission time, then file, then row. Rows sharing a respondent id
-- come first; then, among rows not already superseded, rows sharing an email (folded, no 'anonymous').
-- The pandas path's equivalent is `schemas.validation._superseded`; both give the same entries.
CREATE TABLE superseded_entries AS
WITH by_id AS (
    SELECT s.*,
           last_value(file_order) OVER latest AS kept_file_order,
           last_value(source_file) OVER latest AS kept_source_file,
           last_value(source_row) OVER latest AS kept_source_row
    FROM submissions AS s
    WHERE respondent_id IS NOT NULL
    WINDOW latest AS (PARTITION BY respondent_id ORDER BY submitted_at NULLS FIRST, file_order, source_row
                      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
id_entries AS (
    SELECT file_order, source_file, source_row, respondent_id, $id_column AS column_name,
           'same respondent id as ' || kept_source_file || ' row ' || kept_source_row AS offending_value,
           kept_source_file, kept_source_row
    FROM by_id
    WHERE NOT (kept_file_order = file_order AND kept_source_row = source_row)
),
by_email AS (
    SELECT s.*,
           last_value(file_order) OVER latest AS kept_file_order,
           last_value(source_file) OVER latest AS kept_source_file,
           last_value(source_row) OVER latest AS kept_source_row
    FROM submissions AS s
    WHERE email_key IS NOT NULL
    WINDOW latest AS (PARTITION BY email_key ORDER BY submitted_at NULLS FIRST, file_order, source_row
                      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
email_entries AS (
    -- Never the email itself: it would put personal data in the quarantine.
    SELECT file_order, source_file, source_row, respondent_id, 'email' AS column_name,
           'same email as ' || kept_source_file || ' row ' || kept_source_row AS offending_value,
           kept_source_file, kept_source_row
    FROM by_email
    WHERE NOT (kept_file_order = file_order AND kept_source_row = source_row)
      AND NOT EXISTS (SELECT 1 FROM id_entries AS i
                      WHERE i.file_order = by_email.file_order AND i.source_row = by_email.source_row)
)
SELECT file_order, source_file, source_row, respondent_id, column_name, $rule AS rule, offending_value,
       kept_source_file, kept_source_row
FROM (SELECT * FROM id_entries UNION ALL SELECT * FROM email_entries);
