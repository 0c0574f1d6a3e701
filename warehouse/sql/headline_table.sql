-- The headline table of one wave, in the order of the codebook's `indicators.headline` list; a weighted survey's
-- shares and means as told (as_told: weighted, the unweighted base beside them, no numerator).
-- Parameters: $survey_id, $wave_id.
SELECT h.indicator_id, h.indicator_kind, h.label, as_told(h.value_weighted, NULL, h.numerator) AS numerator, h.base,
       as_told(h.value_weighted, CASE WHEN h.indicator_kind = 'share' THEN h.value_weighted END, h.pct) AS pct,
       as_told(h.value_weighted, h.value_weighted, h.value) AS value,
       as_told(h.value_weighted, h.ci_low_weighted, h.ci_low) AS ci_low,
       as_told(h.value_weighted, h.ci_high_weighted, h.ci_high) AS ci_high, h.suppressed,
       h.value_weighted IS NOT NULL AS weighted
FROM headline_indicators AS h
JOIN indicators AS i USING (survey_id, indicator_id)
WHERE h.survey_id = $survey_id AND h.wave_id = $wave_id AND i.headline_order IS NOT NULL
ORDER BY i.headline_order
