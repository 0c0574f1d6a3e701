-- The inputs fingerprint of each wave in its survey's latest publication: what analysts have. A wave whose
-- landed inputs differ is loaded again (home/staleness.py). NULL for waves published before fingerprints
-- were recorded: those are loaded again once. Latest per survey: the analysts' warehouse holds every survey's
-- publications, each survey published by runs of its own.
WITH latest AS (
    SELECT survey_id, arg_max(run_id, published_at) AS run_id FROM publications GROUP BY survey_id
)
SELECT survey_id, wave_id, any_value(inputs_fingerprint) AS inputs_fingerprint
FROM publications
JOIN latest USING (survey_id, run_id)
GROUP BY survey_id, wave_id
ORDER BY survey_id, wave_id
