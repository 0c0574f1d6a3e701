-- The waves of the previous analysts' snapshot, each with whether the working database still holds the
-- same load of it (the same latest run in load_log). The previous snapshot is attached as `previous`.
WITH previous_loads AS (
    SELECT survey_id, wave_id, arg_max(run_id, loaded_at) AS run_id
    FROM previous.main.load_log
    GROUP BY survey_id, wave_id
),
working_loads AS (
    SELECT survey_id, wave_id, arg_max(run_id, loaded_at) AS run_id
    FROM load_log
    GROUP BY survey_id, wave_id
)
SELECT p.survey_id, p.wave_id, coalesce(p.run_id = w.run_id, false) AS same_load
FROM previous_loads AS p
LEFT JOIN working_loads AS w USING (survey_id, wave_id)
ORDER BY p.survey_id, p.wave_id
