-- The inputs fingerprint of each wave in its survey's latest publication: what analysts have. A wave whose
-- landed inputs differ is loaded again (home/staleness.py). NULL for waves published before fingerprints
-- were recorded: those are loaded again once. Latest per survey: the analysts' warehouse holds every survey's
-- publications, each survey published by runs of its own.
-- Parameter $published_file: read from a published file (a survey's snapshot or the analysts' warehouse), where a
-- withdrawal recorded after a wave's publication was itself published, so the wave is no longer there (a survey
-- whose every wave is withdrawn is published with no row in `publications`). In the working database a withdrawal
-- is recorded before it is published: there the wave still counts until the next publication.
WITH latest AS (
    SELECT survey_id, arg_max(run_id, published_at) AS run_id FROM publications GROUP BY survey_id
)
SELECT p.survey_id, p.wave_id, any_value(p.inputs_fingerprint) AS inputs_fingerprint
FROM publications AS p
JOIN latest USING (survey_id, run_id)
WHERE NOT ($published_file AND EXISTS (
    SELECT 1 FROM wave_removals AS r
    WHERE r.survey_id = p.survey_id AND r.wave_id = p.wave_id AND r.removed_at > p.published_at
))
GROUP BY p.survey_id, p.wave_id
ORDER BY p.survey_id, p.wave_id
