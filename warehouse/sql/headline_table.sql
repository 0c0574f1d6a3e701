-- The headline table of one wave, in the order of the codebook's `indicators.headline` list.
-- Parameters: $survey_id, $wave_id.
SELECT h.indicator_id, h.indicator_kind, h.label, h.numerator, h.base, h.pct, h.value, h.ci_low, h.ci_high, h.suppressed
FROM headline_indicators AS h
JOIN indicators AS i USING (survey_id, indicator_id)
WHERE h.survey_id = $survey_id AND h.wave_id = $wave_id AND i.headline_order IS NOT NULL
ORDER BY i.headline_order
