-- Earlier submissions of a respondent, among the rows that pass every other rule (view `submissions`).
-- The latest submission is kept: by submission time, then file, then row. Rows sharing a respondent id
-- come first; then, among rows not already superseded, rows sharing an email (folded, no 'anonymous').
CREATE TABLE superseded_entries AS
WITH keyed AS (
    SELECT *, 'id' AS key_kind, respondent_id AS match_key FROM submissions WHERE respondent_id IS NOT NULL
    UNION ALL
    SELECT *, 'email' AS key_kind, email_key AS match_key FROM submissions WHERE email_key IS NOT NULL
),
-- Only keys given more than once can supersede: sorting the rest for the window was most of the time.
repeated AS (
    SELECT key_kind, match_key FROM keyed GROUP BY key_kind, match_key HAVING count(*) > 1
),
latest AS (
    SELECT k.*,
           last_value(file_order) OVER same_key AS kept_file_order,
           last_value(source_file) OVER same_key AS kept_source_file,
           last_value(source_row) OVER same_key AS kept_source_row
    FROM keyed AS k SEMI JOIN repeated USING (key_kind, match_key)
    WINDOW same_key AS (PARTITION BY key_kind, match_key ORDER BY submitted_at NULLS FIRST, file_order, source_row
                        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
earlier AS (
    SELECT * FROM latest WHERE NOT (kept_file_order = file_order AND kept_source_row = source_row)
)
-- Never the email itself: it would put personal data in the quarantine.
SELECT file_order, source_file, source_row, respondent_id,
       CASE key_kind WHEN 'id' THEN $id_column ELSE 'email' END AS column_name, $rule AS rule,
       CASE key_kind WHEN 'id' THEN 'same respondent id as ' ELSE 'same email as ' END
           || kept_source_file || ' row ' || kept_source_row AS offending_value,
       kept_source_file, kept_source_row
FROM earlier AS e
WHERE key_kind = 'id'
   OR NOT EXISTS (SELECT 1 FROM earlier AS i
                  WHERE i.key_kind = 'id' AND i.file_order = e.file_order AND i.source_row = e.source_row);
