-- Record that a wave is withdrawn, before its rows go: the loads and files it held, and its respondents.
-- Parameters: $survey_id, $wave_id, $removed_at, $removed_by, $reason, $archived_to.
INSERT INTO wave_removals
SELECT
    $survey_id,
    $wave_id,
    $removed_at,
    $removed_by,
    $reason,
    coalesce((SELECT list(DISTINCT run_id ORDER BY run_id) FROM load_log
              WHERE survey_id = $survey_id AND wave_id = $wave_id), []),
    coalesce((SELECT list(DISTINCT source_file ORDER BY source_file) FROM load_log
              WHERE survey_id = $survey_id AND wave_id = $wave_id), []),
    (SELECT count(*) FROM respondents WHERE survey_id = $survey_id AND wave_id = $wave_id),
    $archived_to
