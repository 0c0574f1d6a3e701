-- Every indicator of one wave with its change since the previous wave, for the leadership brief.
-- Parameters: $survey_id, $wave_id. Aggregates only: no respondent row, no free text.
-- A weighted survey's shares and means are told weighted (value, interval, change and its test), each with its
-- unweighted base: the brief says so.
SELECT
    h.indicator_id,
    h.indicator_kind,
    h.question_id,
    h.numerator,
    h.base,
    CASE WHEN h.value_weighted IS NOT NULL AND h.indicator_kind = 'share' THEN h.value_weighted ELSE h.pct END AS pct,
    coalesce(h.value_weighted, h.value) AS value,
    CASE WHEN h.value_weighted IS NOT NULL THEN h.ci_low_weighted ELSE h.ci_low END AS ci_low,
    CASE WHEN h.value_weighted IS NOT NULL THEN h.ci_high_weighted ELSE h.ci_high END AS ci_high,
    h.suppressed,
    h.value_weighted IS NOT NULL AS weighted,
    t.previous_wave_id,
    t.previous_value,
    CASE WHEN h.value_weighted IS NOT NULL THEN t.change_weighted ELSE t.change END AS change,
    t.comparable,
    CASE WHEN h.value_weighted IS NOT NULL THEN t.significant_weighted ELSE t.significant END AS significant
FROM headline_indicators AS h
LEFT JOIN indicator_trends AS t USING (survey_id, wave_id, indicator_id)
WHERE h.survey_id = $survey_id AND h.wave_id = $wave_id
ORDER BY h.indicator_id
