-- Each headline indicator in each of the pack's waves (those up to the pack's own), with its base and its
-- change since the wave before. Parameters: $survey_id, $waves. A weighted survey's shares and means as told:
-- weighted (as_told), with the unweighted base and no numerator (the base does not divide it).
SELECT h.indicator_id, h.indicator_kind, h.label, h.wave_id,
       as_told(h.value_weighted, CASE WHEN h.indicator_kind = 'share' THEN h.value_weighted END, h.pct) AS pct,
       as_told(h.value_weighted, h.value_weighted, h.value) AS value,
       as_told(h.value_weighted, NULL, h.numerator) AS numerator, h.base, h.suppressed,
       h.value_weighted IS NOT NULL AS weighted,
       t.previous_wave_id, as_told(h.value_weighted, t.change_weighted, t.change) AS change, t.comparable,
       as_told(h.value_weighted, t.significant_weighted, t.significant) AS significant, t.note
FROM headline_indicators AS h
JOIN indicators AS i USING (survey_id, indicator_id)
JOIN waves AS w USING (survey_id, wave_id)
LEFT JOIN indicator_trends AS t USING (survey_id, wave_id, indicator_id)
WHERE h.survey_id = $survey_id AND list_contains($waves, h.wave_id) AND i.headline_order IS NOT NULL
ORDER BY i.headline_order, w.wave_order
