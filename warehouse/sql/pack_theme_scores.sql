-- The pack's theme charts: the wave's theme scores and their items' scores (out of 10) with their intervals, weighted
-- where the survey is (as the brief tells them). Parameters: $survey_id, $wave_id, $indicator_ids (the themes' and
-- their items' score ids, from the codebook). Aggregates only; a withheld score has no value.
SELECT
    indicator_id,
    coalesce(value_weighted, value) AS value,
    CASE WHEN value_weighted IS NULL THEN ci_low ELSE ci_low_weighted END AS ci_low,
    CASE WHEN value_weighted IS NULL THEN ci_high ELSE ci_high_weighted END AS ci_high
FROM headline_indicators
WHERE survey_id = $survey_id AND wave_id = $wave_id AND list_contains($indicator_ids, indicator_id)
  AND NOT suppressed AND value IS NOT NULL
