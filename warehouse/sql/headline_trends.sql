-- The headline indicators across every loaded wave, with the change from the previous wave; a weighted survey's
-- shares and means as told (as_told: weighted). Parameters: $survey_id.
SELECT t.indicator_id, i.indicator_kind, t.wave_id, w.wave_order,
       as_told(h.value_weighted, h.value_weighted, t.value) AS value,
       as_told(h.value_weighted, t.change_weighted, t.change) AS change, t.comparable,
       as_told(h.value_weighted, t.significant_weighted, t.significant) AS significant
FROM indicator_trends AS t
JOIN indicators AS i USING (survey_id, indicator_id)
JOIN waves AS w USING (survey_id, wave_id)
LEFT JOIN headline_indicators AS h USING (survey_id, wave_id, indicator_id)
WHERE t.survey_id = $survey_id AND i.headline_order IS NOT NULL
ORDER BY i.headline_order, w.wave_order
