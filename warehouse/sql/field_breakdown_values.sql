-- As breakdown_values.sql, by the groups of respondent fields (an occupational group): numerator and base of
-- every share indicator, and base, mean and standard deviation of every mean, of one wave, by the label of the
-- option each respondent chose for each field in $fields, small groups pooled as the codebook says.
-- Parameters: $survey_id, $wave_id, $fields (field ids), $pooled (as in breakdown_values.sql). Counted from
-- the long answers with the counting macros of schema.sql: a field's groups are not groups of trusts, so the
-- wave's counts per trust cannot be added up to them.
WITH groups AS (
    SELECT * FROM field_groups($survey_id, $wave_id, $fields, $pooled)
),
shares AS (
    SELECT indicator_id, question_id FROM asked_shares($survey_id, $wave_id)
),
bases AS (
    SELECT g.dimension, g.category, a.question_id, count(*) AS base
    FROM answered_questions($survey_id, $wave_id) AS a
    JOIN groups AS g USING (respondent_id)
    GROUP BY ALL
),
numerators AS (
    SELECT t.indicator_id, g.dimension, g.category, count(*) AS numerator
    FROM share_ticks($survey_id, $wave_id) AS t
    JOIN groups AS g USING (respondent_id)
    GROUP BY ALL
),
means AS (
    SELECT v.indicator_id, g.dimension, g.category, count(*) AS base, fsum(v.value) AS total,
           fsum(v.value * v.value) AS total_squares
    FROM mean_values($survey_id, $wave_id) AS v
    JOIN groups AS g USING (respondent_id)
    GROUP BY ALL
)
SELECT s.indicator_id, 'share' AS indicator_kind, b.dimension, b.category, coalesce(n.numerator, 0) AS numerator,
       b.base, NULL::DOUBLE AS value, NULL::DOUBLE AS sd
FROM shares AS s
JOIN bases AS b ON b.question_id = s.question_id
LEFT JOIN numerators AS n ON n.indicator_id = s.indicator_id AND n.dimension = b.dimension AND n.category = b.category
UNION ALL
SELECT indicator_id, 'mean', dimension, category, NULL, base, total / base, sample_sd(base, total, total_squares)
FROM means
UNION ALL
SELECT v.indicator_id, 'median', g.dimension, g.category, NULL, count(*), median(v.value), NULL
FROM median_values($survey_id, $wave_id) AS v
JOIN groups AS g USING (respondent_id)
GROUP BY ALL
ORDER BY indicator_id, dimension, category
