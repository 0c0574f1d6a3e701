-- As trust_value_sums.sql for a wave without weights, from its counts by trust (written with its load): every
-- weight is 1, so the sum of weights and of their squares are the base, and the weighted sums of the value and
-- of its square are a share's numerator (twice) or a mean's total and total of squares. Parameters: $survey_id,
-- $wave_id.
SELECT b.trust_code, s.indicator_id, b.answered AS base, b.answered::DOUBLE AS sum_w, b.answered::DOUBLE AS sum_w2,
       coalesce(n.ticked, 0)::DOUBLE AS sum_wy, coalesce(n.ticked, 0)::DOUBLE AS sum_wy2
FROM asked_shares($survey_id, $wave_id) AS s
JOIN trust_question_bases AS b ON b.question_id = s.question_id
LEFT JOIN trust_share_numerators AS n
  ON n.survey_id = b.survey_id AND n.wave_id = b.wave_id AND n.trust_code = b.trust_code AND n.indicator_id = s.indicator_id
WHERE b.survey_id = $survey_id AND b.wave_id = $wave_id AND b.trust_code <> counted_trust(NULL) AND b.answered > 0
UNION ALL
SELECT trust_code, indicator_id, answered, answered, answered, total, total_squares
FROM trust_mean_sums
WHERE survey_id = $survey_id AND wave_id = $wave_id AND trust_code <> counted_trust(NULL) AND answered > 0
