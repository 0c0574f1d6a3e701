-- One wave's headline indicators as they stand, before they are computed again.
SELECT indicator_id, indicator_kind, numerator, pct, value, suppressed
FROM headline_indicators
WHERE survey_id = $survey_id AND wave_id = $wave_id
ORDER BY indicator_id
