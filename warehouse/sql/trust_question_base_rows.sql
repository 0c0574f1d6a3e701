-- Respondents of each trust who answered each question of one wave ($survey_id, $wave_id): the rows of
-- `trust_question_bases`. The counting rule (answered_questions) is a macro at the end of schema.sql.
SELECT $survey_id AS survey_id, $wave_id AS wave_id, counted_trust(r.trust_code) AS trust_code, a.question_id,
       count(*) AS answered
FROM answered_questions($survey_id, $wave_id) AS a
JOIN respondents AS r
  ON r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = a.respondent_id
GROUP BY ALL
