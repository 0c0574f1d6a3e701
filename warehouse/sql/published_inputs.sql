-- The inputs fingerprint of each wave in its survey's latest publication: what analysts have. A wave whose
-- landed inputs differ is loaded again (home/staleness.py). NULL for waves published before fingerprints
-- were recorded: those are loaded again once. Latest per survey: the analysts' warehouse holds every survey's
-- publications, each survey published by runs of its own.
-- Only the waves the file still holds a load of: a survey whose every wave is withdrawn is published with no row in
-- `publications`, so its latest row there names waves that are gone (and a wave withdrawn in the working database
-- is no longer there to be published again as it was).
WITH latest AS (
    SELECT survey_id, arg_max(run_id, published_at) AS run_id FROM publications GROUP BY survey_id
)
SELECT p.survey_id, p.wave_id, any_value(p.inputs_fingerprint) AS inputs_fingerprint
FROM publications AS p
JOIN latest USING (survey_id, run_id)
JOIN (SELECT DISTINCT survey_id, wave_id FROM load_log) USING (survey_id, wave_id)
GROUP BY p.survey_id, p.wave_id
ORDER BY p.survey_id, p.wave_id
