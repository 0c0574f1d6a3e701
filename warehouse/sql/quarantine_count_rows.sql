-- The quarantine reduced to what analysts may see: how many rows each rule refused in each column.
SELECT survey_id, wave_id, source_file, rule, column_name,
       count(DISTINCT source_row) AS rows_refused, run_id
FROM private.quarantine
GROUP BY ALL
ORDER BY survey_id, wave_id, source_file, rule, column_name
