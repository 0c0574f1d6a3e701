-- Waves whose per-wave results (headline indicators, breakdowns, trust coverage) were not all computed
-- from the wave's latest load: a load whose later steps failed or were interrupted.
-- Parameter: $result_tables (the per-wave result tables).
WITH latest_load AS (
    SELECT survey_id, wave_id, run_id FROM latest_load_runs()
)
SELECT l.survey_id, l.wave_id, t.result_table
FROM latest_load AS l
CROSS JOIN (SELECT unnest($result_tables) AS result_table) AS t
LEFT JOIN wave_results AS r
    ON r.survey_id = l.survey_id AND r.wave_id = l.wave_id AND r.result_table = t.result_table
WHERE r.load_run_id IS DISTINCT FROM l.run_id
ORDER BY l.survey_id, l.wave_id, t.result_table
