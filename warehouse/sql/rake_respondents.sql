-- Each respondent of one wave ($survey_id, $wave_id) with their trust and its type and region in the reference
-- list: what raking to the reference list's margins weighs.
SELECT r.respondent_id, r.trust_code, t.trust_type, t.region
FROM respondents AS r
LEFT JOIN trusts AS t ON t.ods_code = r.trust_code
WHERE r.survey_id = $survey_id AND r.wave_id = $wave_id
ORDER BY r.respondent_id
