-- The publication record of a snapshot: each loaded wave's source files as its latest load read them.
-- Parameters: $run_id, $published_at, $code_version.
WITH latest_load AS (
    SELECT survey_id, wave_id, run_id FROM latest_load_runs()
)
SELECT
    $run_id AS run_id,
    $published_at AS published_at,
    log.survey_id,
    log.wave_id,
    log.codebook_version,
    log.source_file,
    log.sha256,
    $code_version AS code_version,
    log.inputs_fingerprint
FROM load_log AS log
JOIN latest_load USING (survey_id, wave_id, run_id)
ORDER BY log.survey_id, log.wave_id, log.source_file
