-- Every indicator of one wave with its change since the previous wave, for the leadership brief.
-- Parameters: $survey_id, $wave_id. Aggregates only: no respondent row, no free text.
-- A weighted survey's shares and means are told weighted (value, interval, change and its test: as_told), each
-- with its unweighted base: the brief says so.
SELECT
    h.indicator_id,
    h.indicator_kind,
    h.question_id,
    h.numerator,
    h.base,
    as_told(h.value_weighted, CASE WHEN h.indicator_kind = 'share' THEN h.value_weighted END, h.pct) AS pct,
    as_told(h.value_weighted, h.value_weighted, h.value) AS value,
    as_told(h.value_weighted, h.ci_low_weighted, h.ci_low) AS ci_low,
    as_told(h.value_weighted, h.ci_high_weighted, h.ci_high) AS ci_high,
    h.suppressed,
    h.value_weighted IS NOT NULL AS weighted,
    t.previous_wave_id,
    t.previous_value,
    as_told(h.value_weighted, t.change_weighted, t.change) AS change,
    t.comparable,
    as_told(h.value_weighted, t.significant_weighted, t.significant) AS significant
FROM headline_indicators AS h
LEFT JOIN indicator_trends AS t USING (survey_id, wave_id, indicator_id)
WHERE h.survey_id = $survey_id AND h.wave_id = $wave_id
ORDER BY h.indicator_id
