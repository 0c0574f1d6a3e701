-- The other waves of a survey whose latest load was pseudonymised under a key other than $key_fingerprint.
-- Loads from before fingerprints were kept (NULL) are not known to differ and are left out.
WITH latest AS (
    SELECT survey_id, wave_id, run_id FROM latest_load_runs() WHERE survey_id = $survey_id AND wave_id <> $wave_id
)
SELECT DISTINCT log.wave_id
FROM load_log AS log
JOIN latest USING (survey_id, wave_id, run_id)
WHERE log.key_fingerprint IS NOT NULL AND log.key_fingerprint <> $key_fingerprint
ORDER BY ALL
