-- The headline table of the pack: every headline indicator of one wave with its change since the
-- previous wave. Parameters: $survey_id, $wave_id. Aggregates only: no respondent row, no free text.
SELECT
    i.headline_order,
    h.indicator_id,
    h.label,
    h.indicator_kind,
    h.pct,
    h.value,
    h.ci_low,
    h.ci_high,
    h.numerator,
    h.base,
    h.suppressed,
    h.pct_trust_weighted,
    h.value_weighted,
    h.ci_low_weighted,
    h.ci_high_weighted,
    h.effective_base,
    t.previous_wave_id,
    t.change,
    t.comparable,
    t.significant,
    t.change_weighted,
    t.significant_weighted,
    t.note
FROM headline_indicators AS h
JOIN indicators AS i USING (survey_id, indicator_id)
LEFT JOIN indicator_trends AS t USING (survey_id, wave_id, indicator_id)
WHERE h.survey_id = $survey_id AND h.wave_id = $wave_id AND i.headline_order IS NOT NULL
ORDER BY i.headline_order
