-- Each headline indicator in each of the pack's waves (those up to the pack's own), with its base and its
-- change since the wave before. Parameters: $survey_id, $waves.
SELECT h.indicator_id, h.indicator_kind, h.label, h.wave_id, h.pct, h.value, h.numerator, h.base, h.suppressed,
       t.previous_wave_id, t.change, t.comparable, t.significant, t.note
FROM headline_indicators AS h
JOIN indicators AS i USING (survey_id, indicator_id)
JOIN waves AS w USING (survey_id, wave_id)
LEFT JOIN indicator_trends AS t USING (survey_id, wave_id, indicator_id)
WHERE h.survey_id = $survey_id AND list_contains($waves, h.wave_id) AND i.headline_order IS NOT NULL
ORDER BY i.headline_order, w.wave_order
