-- Each headline share, mean and median of one wave by the groups of one dimension, with the base and suppression of
-- each cell. Parameters: $survey_id, $wave_id, $dimension. A weighted survey's shares and means as told: weighted
-- (as_told), with the unweighted base.
SELECT b.indicator_id, i.label, i.indicator_kind, b.category,
       as_told(b.value_weighted, CASE WHEN i.indicator_kind = 'share' THEN b.value_weighted END, b.pct) AS pct,
       as_told(b.value_weighted, b.value_weighted, b.value) AS value, b.base, b.suppressed, b.suppression
FROM indicator_breakdowns AS b
JOIN indicators AS i USING (survey_id, indicator_id)
WHERE b.survey_id = $survey_id AND b.wave_id = $wave_id AND b.dimension = $dimension
  AND i.headline_order IS NOT NULL
ORDER BY i.headline_order, b.category
