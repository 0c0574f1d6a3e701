-- Every indicator of one wave with its change since the previous wave, for the leadership brief.
-- Parameters: $survey_id, $wave_id. Aggregates only: no respondent row, no free text.
SELECT
    h.indicator_id,
    h.indicator_kind,
    h.question_id,
    h.numerator,
    h.base,
    h.pct,
    h.value,
    h.ci_low,
    h.ci_high,
    h.suppressed,
    t.previous_wave_id,
    t.previous_value,
    t.change,
    t.comparable,
    t.significant
FROM headline_indicators AS h
LEFT JOIN indicator_trends AS t USING (survey_id, wave_id, indicator_id)
WHERE h.survey_id = $survey_id AND h.wave_id = $wave_id
ORDER BY h.indicator_id
