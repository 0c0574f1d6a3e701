-- The export files (name and sha256) of each wave in its survey's latest publication, from the working database:
-- set beside a stale wave's landed exports, they say whether its files or something else made it stale.
WITH latest AS (
    SELECT survey_id, arg_max(run_id, published_at) AS run_id FROM publications GROUP BY survey_id
)
SELECT DISTINCT p.wave_id, p.source_file, p.sha256
FROM publications AS p
JOIN latest USING (survey_id, run_id)
WHERE p.survey_id = $survey_id
ORDER BY ALL
