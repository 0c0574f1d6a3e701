-- Respondents of each trust counted by each share indicator of one wave ($survey_id, $wave_id): the rows
-- of `trust_share_numerators`. The counting rule (share_ticks) is a macro at the end of schema.sql.
SELECT $survey_id AS survey_id, $wave_id AS wave_id, r.trust_code, t.indicator_id, count(*) AS ticked
FROM share_ticks($survey_id, $wave_id) AS t
JOIN respondents AS r
  ON r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = t.respondent_id
GROUP BY ALL
