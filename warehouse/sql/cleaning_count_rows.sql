-- The cleaning log reduced to what analysts may see: how many cells each rule cleaned away in each column.
SELECT survey_id, wave_id, source_file, rule, column_name, count(*) AS cells_cleaned, run_id
FROM private.cleaning_log
GROUP BY ALL
ORDER BY survey_id, wave_id, source_file, rule, column_name
