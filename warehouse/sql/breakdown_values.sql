-- Numerator and base of every share indicator of one wave, and base, mean and standard deviation of every
-- mean, by trust type and by NHS region of the respondent's trust (from the reference list), small groups
-- pooled as the codebook says. Parameters: $survey_id, $wave_id, $dimensions (those of trust_type and region
-- the codebook breaks down by), $pooled (the codebook's pooled groups: [dimension, group, reported as] lists). All are added up from the wave's counts per trust
-- (`trust_question_bases`, `trust_share_numerators`, `trust_mean_sums`, written with its load): a trust's
-- type and region are the same for all its respondents. Medians, which cannot be added up, are taken over the
-- numbers given (`median_values`).
WITH categories AS (
    SELECT * FROM trust_groups($dimensions, $pooled)
),
shares AS (
    SELECT indicator_id, question_id FROM asked_shares($survey_id, $wave_id)
),
bases AS (
    SELECT c.dimension, c.category, b.question_id, sum(b.answered)::BIGINT AS base
    FROM trust_question_bases AS b
    JOIN categories AS c USING (trust_code)
    WHERE b.survey_id = $survey_id AND b.wave_id = $wave_id
    GROUP BY ALL
),
numerators AS (
    SELECT n.indicator_id, c.dimension, c.category, sum(n.ticked)::BIGINT AS numerator
    FROM trust_share_numerators AS n
    JOIN shares USING (indicator_id)
    JOIN categories AS c USING (trust_code)
    WHERE n.survey_id = $survey_id AND n.wave_id = $wave_id
    GROUP BY ALL
),
means AS (
    SELECT m.indicator_id, c.dimension, c.category, sum(m.answered)::BIGINT AS base,
           sum(m.total ORDER BY m.trust_code) AS total, sum(m.total_squares ORDER BY m.trust_code) AS total_squares
    FROM trust_mean_sums AS m
    JOIN categories AS c USING (trust_code)
    WHERE m.survey_id = $survey_id AND m.wave_id = $wave_id
    GROUP BY ALL
)
SELECT s.indicator_id, 'share' AS indicator_kind, b.dimension, b.category, coalesce(n.numerator, 0) AS numerator,
       b.base, NULL::DOUBLE AS value, NULL::DOUBLE AS sd
FROM shares AS s
JOIN bases AS b ON b.question_id = s.question_id
LEFT JOIN numerators AS n ON n.indicator_id = s.indicator_id AND n.dimension = b.dimension AND n.category = b.category
UNION ALL
-- A group whose trusts' respondents gave no value has no row, as a share's group with no answer has none.
SELECT indicator_id, 'mean', dimension, category, NULL, base, total / base, sample_sd(base, total, total_squares)
FROM means
WHERE base > 0
UNION ALL
SELECT v.indicator_id, 'median', c.dimension, c.category, NULL, count(*), median(v.value), NULL
FROM median_values($survey_id, $wave_id) AS v
JOIN respondents AS r ON r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = v.respondent_id
JOIN categories AS c USING (trust_code)
GROUP BY ALL
ORDER BY indicator_id, dimension, category
