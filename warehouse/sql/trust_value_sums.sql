-- Each trust's respondents in the base of each share and mean indicator of one weighted wave, with the weighted
-- sums of weighted_sums.sql by trust. Parameters: $survey_id, $wave_id. What a trust's weighted value, its
-- comparator group's and the rest of the country's are made from.
SELECT r.trust_code, v.indicator_id, count(*) AS base, sum(r.weight) AS sum_w, sum(r.weight * r.weight) AS sum_w2,
       sum(r.weight * v.value) AS sum_wy, sum(r.weight * v.value * v.value) AS sum_wy2
FROM respondent_values($survey_id, $wave_id) AS v
JOIN respondents AS r ON r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = v.respondent_id
WHERE r.trust_code IS NOT NULL
GROUP BY ALL
