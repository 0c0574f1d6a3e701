-- The weighted sums of every share and mean indicator of one wave ($survey_id, $wave_id) over its base
-- respondents (`respondent_values`), from `respondents.weight`: the sum of weights and of squared weights, and
-- the weighted sums of the value and of its square (a share's value is 1 for a respondent it counts, 0 for
-- the rest of its base). No rows for a wave without weights.
SELECT v.indicator_id, sum(r.weight) AS sum_w, sum(r.weight * r.weight) AS sum_w2, sum(r.weight * v.value) AS sum_wy,
       sum(r.weight * v.value * v.value) AS sum_wy2
FROM respondent_values($survey_id, $wave_id) AS v
JOIN respondents AS r ON r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = v.respondent_id
WHERE r.weight IS NOT NULL
GROUP BY v.indicator_id
