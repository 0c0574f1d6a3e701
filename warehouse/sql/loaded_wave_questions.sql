-- What each loaded wave of a survey was asked, as written from the codebook it was loaded under (the
-- dimensions are rewritten from the new codebook only after it is checked against this).
SELECT q.wave_id, q.question_id, q.option_ids
FROM wave_questions AS q
WHERE q.survey_id = $survey_id
  AND q.wave_id IN (SELECT wave_id FROM load_log WHERE survey_id = $survey_id)
ORDER BY q.wave_id, q.question_id
