-- Trust-weighted shares of one wave: each trust counts once (each respondent weighs 1 / respondents
-- from that trust in the wave). Parameters: $survey_id, $wave_id.
-- Sums run in respondent order: a floating-point sum in whatever order threads finish differs in its
-- last digits from run to run, and identical inputs must give identical outputs.
WITH weights AS (
    SELECT respondent_id, trust_code, 1.0 / count(*) OVER (PARTITION BY trust_code) AS weight
    FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
answers AS (
    SELECT DISTINCT respondent_id, question_id, option_id
    FROM responses
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
answered AS (
    SELECT a.question_id, sum(w.weight ORDER BY w.respondent_id) AS weighted_base, count(DISTINCT w.trust_code) AS trusts_base
    FROM (SELECT DISTINCT respondent_id, question_id FROM answers) AS a
    JOIN weights AS w USING (respondent_id)
    GROUP BY a.question_id
),
ticks AS (
    SELECT DISTINCT i.indicator_id, i.question_id, a.respondent_id
    FROM indicators AS i
    JOIN answers AS a ON a.question_id = i.question_id AND list_contains(i.option_ids, a.option_id)
    WHERE i.survey_id = $survey_id AND i.indicator_kind = 'share'
),
weighted_ticks AS (
    SELECT t.indicator_id, sum(w.weight ORDER BY w.respondent_id) AS weighted_numerator
    FROM ticks AS t
    JOIN weights AS w USING (respondent_id)
    GROUP BY t.indicator_id
)
SELECT i.indicator_id, coalesce(t.weighted_numerator, 0) AS weighted_numerator, d.weighted_base, d.trusts_base
FROM indicators AS i
JOIN answered AS d ON d.question_id = i.question_id
LEFT JOIN weighted_ticks AS t USING (indicator_id)
WHERE i.survey_id = $survey_id AND i.indicator_kind = 'share'
