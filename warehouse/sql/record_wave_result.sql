-- Record that a per-wave result table now holds what the wave's latest load gives.
-- Parameters: $survey_id, $wave_id, $table.
INSERT OR REPLACE INTO wave_results (survey_id, wave_id, result_table, load_run_id)
SELECT $survey_id, $wave_id, $table, arg_max(run_id, loaded_at)
FROM load_log
WHERE survey_id = $survey_id AND wave_id = $wave_id
