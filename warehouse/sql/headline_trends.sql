-- The headline indicators across every loaded wave, with the change from the previous wave.
-- Parameters: $survey_id.
SELECT t.indicator_id, i.indicator_kind, t.wave_id, w.wave_order, t.value, t.change, t.comparable, t.significant
FROM indicator_trends AS t
JOIN indicators AS i USING (survey_id, indicator_id)
JOIN waves AS w USING (survey_id, wave_id)
WHERE t.survey_id = $survey_id AND i.headline_order IS NOT NULL
ORDER BY i.headline_order, w.wave_order
