-- The files behind the current figures of a survey: the exports of the latest load of each wave, and the
-- population file a weighted wave was weighted to. Parameters: $survey_id.
SELECT 'export' AS kind, wave_id, source_file, sha256, archived_as
FROM load_log
WHERE survey_id = $survey_id
QUALIFY dense_rank() OVER (PARTITION BY wave_id ORDER BY loaded_at DESC) = 1
UNION ALL
SELECT 'population', wave_id, population_file, population_sha256, population_archived_as
FROM weighting_diagnostics
WHERE survey_id = $survey_id AND population_file IS NOT NULL
ORDER BY wave_id, kind, source_file
