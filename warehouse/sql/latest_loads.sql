-- The latest load of each wave, its files added up: when, by which run, rows read, loaded, quarantined.
-- Also read from the analysts' snapshot, which has no macro: the latest run is chosen here, not by latest_load_runs().
WITH latest AS (
    SELECT survey_id, wave_id, arg_max(run_id, loaded_at) AS run_id
    FROM load_log
    GROUP BY survey_id, wave_id
)
SELECT log.survey_id, log.wave_id, log.run_id, max(log.loaded_at) AS loaded_at,
       sum(log.rows_read)::BIGINT AS rows_read, sum(log.rows_loaded)::BIGINT AS rows_loaded,
       sum(log.rows_quarantined)::BIGINT AS rows_quarantined
FROM load_log AS log
JOIN latest USING (survey_id, wave_id, run_id)
GROUP BY ALL
ORDER BY log.survey_id, log.wave_id
