-- Loaded waves with no trust benchmarks computed at all (loaded by a release before benchmarking): their
-- survey and wave.
SELECT l.survey_id, l.wave_id
FROM latest_load_runs() AS l
WHERE NOT EXISTS (SELECT 1 FROM wave_results AS r WHERE r.survey_id = l.survey_id AND r.wave_id = l.wave_id
                  AND r.result_table = 'trust_benchmark_waves')
ORDER BY l.survey_id, l.wave_id
