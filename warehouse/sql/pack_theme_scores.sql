-- The pack's theme charts: the wave's theme scores and their items' scores (out of 10) with their intervals, as the
-- brief tells them (as_told: weighted where the survey is). Parameters: $survey_id, $wave_id, $indicator_ids (the
-- themes' and their items' score ids, from the codebook). Aggregates only; a withheld score has no value.
SELECT
    indicator_id,
    as_told(value_weighted, value_weighted, value) AS value,
    as_told(value_weighted, ci_low_weighted, ci_low) AS ci_low,
    as_told(value_weighted, ci_high_weighted, ci_high) AS ci_high
FROM headline_indicators
WHERE survey_id = $survey_id AND wave_id = $wave_id AND list_contains($indicator_ids, indicator_id)
  AND NOT suppressed AND value IS NOT NULL
