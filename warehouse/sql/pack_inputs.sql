-- The files behind the current figures of a survey: the latest load of each wave. Parameters: $survey_id.
SELECT wave_id, source_file, sha256, archived_as, loaded_at, run_id
FROM load_log
WHERE survey_id = $survey_id
QUALIFY dense_rank() OVER (PARTITION BY wave_id ORDER BY loaded_at DESC) = 1
ORDER BY wave_id, source_file
