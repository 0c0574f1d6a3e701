-- Each wave's codebook version and source files in its survey's latest publication (the analysts' warehouse
-- holds every survey's publications; a survey's working database and snapshot, its own), of the waves the file
-- still holds a load of (as published_inputs.sql).
WITH latest AS (
    SELECT survey_id, arg_max(run_id, published_at) AS run_id FROM publications GROUP BY survey_id
)
SELECT survey_id, wave_id, codebook_version, source_file, sha256
FROM publications
JOIN latest USING (survey_id, run_id)
JOIN (SELECT DISTINCT survey_id, wave_id FROM load_log) USING (survey_id, wave_id)
