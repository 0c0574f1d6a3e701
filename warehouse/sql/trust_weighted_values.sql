-- Trust-weighted shares of one wave: each trust counts once (each respondent weighs 1 / respondents
-- from that trust in the wave). Parameters: $survey_id, $wave_id.
-- Respondents are counted per trust first (exact integers), then each trust's share of its respondents
-- is added up in trust order: a floating-point sum in whatever order threads finish would differ in its
-- last digits from run to run, and identical inputs must give identical outputs.
-- Counts per trust come from `trust_question_bases` and `trust_share_numerators`, written with the load.
WITH wave_respondents AS (
    SELECT respondent_id, trust_code
    FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
trust_sizes AS (
    SELECT trust_code, count(*) AS respondents
    FROM wave_respondents
    GROUP BY trust_code
),
answered_by_trust AS (
    SELECT question_id, trust_code, answered
    FROM trust_question_bases
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
answered AS (
    SELECT question_id,
           sum(answered / s.respondents ORDER BY trust_code) AS weighted_base,
           count(*) AS trusts_base
    FROM answered_by_trust
    JOIN trust_sizes AS s USING (trust_code)
    GROUP BY question_id
),
ticked_by_trust AS (
    SELECT indicator_id, trust_code, ticked
    FROM trust_share_numerators
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
weighted_ticks AS (
    SELECT indicator_id, sum(ticked / s.respondents ORDER BY trust_code) AS weighted_numerator
    FROM ticked_by_trust
    JOIN trust_sizes AS s USING (trust_code)
    GROUP BY indicator_id
)
SELECT i.indicator_id, coalesce(t.weighted_numerator, 0) AS weighted_numerator, d.weighted_base, d.trusts_base
FROM indicators AS i
JOIN answered AS d ON d.question_id = i.question_id
LEFT JOIN weighted_ticks AS t USING (indicator_id)
WHERE i.survey_id = $survey_id AND i.indicator_kind = 'share'
