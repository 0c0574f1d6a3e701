-- The weighted sums of weighted_sums.sql by the groups the codebook breaks down by: the reference dimensions
-- in $dimensions (trust type, region: the group of the respondent's trust) and the respondent fields in
-- $fields, pooled as $pooled says (as breakdown_values.sql). Parameters: $survey_id, $wave_id, $dimensions,
-- $fields, $pooled. No rows for a wave without weights.
WITH weights AS (
    SELECT respondent_id, trust_code, weight FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id AND weight IS NOT NULL
),
groups AS (
    SELECT w.respondent_id, g.dimension, g.category
    FROM weights AS w
    JOIN trust_groups($dimensions, $pooled) AS g USING (trust_code)
    UNION ALL
    SELECT respondent_id, dimension, category FROM field_groups($survey_id, $wave_id, $fields, $pooled)
)
SELECT v.indicator_id, g.dimension, g.category, sum(w.weight) AS sum_w, sum(w.weight * w.weight) AS sum_w2,
       sum(w.weight * v.value) AS sum_wy, sum(w.weight * v.value * v.value) AS sum_wy2
FROM respondent_values($survey_id, $wave_id) AS v
JOIN weights AS w USING (respondent_id)
JOIN groups AS g USING (respondent_id)
GROUP BY ALL
