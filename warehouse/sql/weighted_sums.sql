-- The weighted sums of every share and mean indicator of one wave ($survey_id, $wave_id) over its base
-- respondents, from `respondents.weight`: sum of weights and of squared weights, and the weighted sums of the
-- value and its square (a share's value is 1 for a respondent it counts, 0 for the rest of its base). With the
-- counting macros of schema.sql, so that a weighted figure has the same base as the unweighted one. No rows
-- for a wave without weights.
WITH weights AS (
    SELECT respondent_id, weight FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id AND weight IS NOT NULL
),
share_bases AS (
    SELECT s.indicator_id, sum(w.weight) AS sum_w, sum(w.weight * w.weight) AS sum_w2
    FROM asked_shares($survey_id, $wave_id) AS s
    JOIN answered_questions($survey_id, $wave_id) AS a USING (question_id)
    JOIN weights AS w USING (respondent_id)
    GROUP BY s.indicator_id
),
share_hits AS (
    SELECT t.indicator_id, sum(w.weight) AS sum_wy
    FROM share_ticks($survey_id, $wave_id) AS t
    JOIN weights AS w USING (respondent_id)
    GROUP BY t.indicator_id
)
SELECT b.indicator_id, b.sum_w, b.sum_w2, coalesce(h.sum_wy, 0) AS sum_wy, coalesce(h.sum_wy, 0) AS sum_wy2
FROM share_bases AS b
LEFT JOIN share_hits AS h USING (indicator_id)
UNION ALL
SELECT v.indicator_id, sum(w.weight), sum(w.weight * w.weight), sum(w.weight * v.value),
       sum(w.weight * v.value * v.value)
FROM mean_values($survey_id, $wave_id) AS v
JOIN weights AS w USING (respondent_id)
GROUP BY v.indicator_id
