-- The inputs fingerprint of each wave in the latest publication: what analysts have. A wave whose landed
-- inputs differ is loaded again (home/staleness.py). NULL for waves published before fingerprints
-- were recorded: those are loaded again once.
SELECT survey_id, wave_id, any_value(inputs_fingerprint) AS inputs_fingerprint
FROM publications
WHERE run_id = (SELECT arg_max(run_id, published_at) FROM publications)
GROUP BY survey_id, wave_id
ORDER BY survey_id, wave_id
