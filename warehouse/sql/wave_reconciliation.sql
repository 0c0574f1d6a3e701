-- The load log's counts for one run, beside the rows the warehouse actually holds for the wave.
-- Parameters: $survey_id, $wave_id, $run_id.
SELECT
    (SELECT coalesce(sum(rows_read), 0) FROM load_log
      WHERE survey_id = $survey_id AND wave_id = $wave_id AND run_id = $run_id) AS logged_rows_read,
    (SELECT coalesce(sum(rows_loaded), 0) FROM load_log
      WHERE survey_id = $survey_id AND wave_id = $wave_id AND run_id = $run_id) AS logged_rows_loaded,
    (SELECT coalesce(sum(rows_quarantined), 0) FROM load_log
      WHERE survey_id = $survey_id AND wave_id = $wave_id AND run_id = $run_id) AS logged_rows_quarantined,
    (SELECT count(*) FROM respondents
      WHERE survey_id = $survey_id AND wave_id = $wave_id) AS respondents_in_warehouse,
    (SELECT count(DISTINCT respondent_id) FROM respondents
      WHERE survey_id = $survey_id AND wave_id = $wave_id) AS distinct_respondents_in_warehouse,
    (SELECT count(DISTINCT (source_file, source_row)) FROM private.quarantine
      WHERE survey_id = $survey_id AND wave_id = $wave_id AND run_id = $run_id) AS rows_in_quarantine,
    (SELECT count(*) FROM respondent_fields WHERE survey_id = $survey_id AND wave_id = $wave_id)
      + (SELECT count(*) FROM responses WHERE survey_id = $survey_id AND wave_id = $wave_id)
      + (SELECT count(*) FROM numeric_responses WHERE survey_id = $survey_id AND wave_id = $wave_id)
      AS answers_in_warehouse
