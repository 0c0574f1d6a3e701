-- How many of the wave's counts by trust (trust_question_bases, trust_share_numerators) come from its
-- latest load. Parameters: $survey_id, $wave_id.
SELECT count(*)
FROM wave_results AS r
WHERE r.survey_id = $survey_id AND r.wave_id = $wave_id
  AND r.result_table IN ('trust_question_bases', 'trust_share_numerators')
  AND r.load_run_id = (SELECT arg_max(run_id, loaded_at) FROM load_log
                       WHERE survey_id = $survey_id AND wave_id = $wave_id)
