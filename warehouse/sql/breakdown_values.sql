-- Numerator and base of every share indicator of one wave, by trust type and by NHS region of the
-- respondent's trust (from the reference list), small groups pooled as the codebook says. Parameters:
-- $survey_id, $wave_id, $pooled (the codebook's pooled groups: [dimension, group, reported as] lists).
-- Both are added up from the wave's counts per trust (`trust_question_bases`, `trust_share_numerators`,
-- written with its load): a trust's type and region are the same for all its respondents.
WITH pooled AS (
    SELECT p[1] AS dimension, p[2] AS category, p[3] AS reported FROM (SELECT unnest($pooled::VARCHAR[][]) AS p)
),
categories AS (
    SELECT c.trust_code, c.dimension, coalesce(p.reported, c.category) AS category
    FROM (
        SELECT ods_code AS trust_code, 'trust_type' AS dimension, trust_type AS category FROM trusts
        UNION ALL
        SELECT ods_code AS trust_code, 'region' AS dimension, region AS category FROM trusts
    ) AS c
    LEFT JOIN pooled AS p USING (dimension, category)
),
asked AS (
    SELECT question_id, option_ids FROM wave_questions WHERE survey_id = $survey_id AND wave_id = $wave_id
),
shares AS (
    SELECT i.indicator_id, i.question_id, i.option_ids
    FROM indicators AS i
    JOIN asked AS q ON q.question_id = i.question_id
    WHERE i.survey_id = $survey_id AND i.indicator_kind = 'share' AND list_has_all(q.option_ids, i.option_ids)
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
)
SELECT s.indicator_id, b.dimension, b.category, coalesce(n.numerator, 0) AS numerator, b.base
FROM shares AS s
JOIN bases AS b ON b.question_id = s.question_id
LEFT JOIN numerators AS n ON n.indicator_id = s.indicator_id AND n.dimension = b.dimension AND n.category = b.category
ORDER BY s.indicator_id, b.dimension, b.category
