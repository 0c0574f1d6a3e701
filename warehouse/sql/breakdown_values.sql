-- Numerator and base of every share indicator of one wave, by trust type and by NHS region of the
-- respondent's trust (from the reference list). Parameters: $survey_id, $wave_id.
-- The counting rules (answered_questions, share_ticks) are the macros at the end of schema.sql.
WITH wave_respondents AS (
    SELECT r.respondent_id, t.trust_type, t.region
    FROM respondents AS r
    JOIN trusts AS t ON t.ods_code = r.trust_code
    WHERE r.survey_id = $survey_id AND r.wave_id = $wave_id
),
categories AS (
    SELECT respondent_id, 'trust_type' AS dimension, trust_type AS category FROM wave_respondents
    UNION ALL
    SELECT respondent_id, 'region' AS dimension, region AS category FROM wave_respondents
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
    SELECT c.dimension, c.category, a.question_id, count(*) AS base
    FROM answered_questions($survey_id, $wave_id) AS a
    JOIN categories AS c USING (respondent_id)
    GROUP BY ALL
),
numerators AS (
    SELECT t.indicator_id, c.dimension, c.category, count(*) AS numerator
    FROM share_ticks($survey_id, $wave_id) AS t
    JOIN shares USING (indicator_id)
    JOIN categories AS c USING (respondent_id)
    GROUP BY ALL
)
SELECT s.indicator_id, b.dimension, b.category, coalesce(n.numerator, 0) AS numerator, b.base
FROM shares AS s
JOIN bases AS b ON b.question_id = s.question_id
LEFT JOIN numerators AS n ON n.indicator_id = s.indicator_id AND n.dimension = b.dimension AND n.category = b.category
ORDER BY s.indicator_id, b.dimension, b.category
