-- Each indicator of each loaded wave beside its value in the survey's previous loaded wave.
-- Parameters: $survey_id. Waves are ordered by the codebook (`waves.wave_order`).
SELECT
    h.indicator_id,
    h.indicator_kind,
    h.question_id,
    h.wave_id,
    lag(h.wave_id) OVER by_wave AS previous_wave_id,
    h.numerator,
    h.base,
    h.pct,
    h.value,
    h.sd,
    h.suppressed,
    lag(h.numerator) OVER by_wave AS previous_numerator,
    lag(h.base) OVER by_wave AS previous_base,
    lag(h.pct) OVER by_wave AS previous_pct,
    lag(h.value) OVER by_wave AS previous_value,
    lag(h.sd) OVER by_wave AS previous_sd,
    lag(h.suppressed) OVER by_wave AS previous_suppressed,
    h.value_weighted,
    h.sd_weighted,
    h.effective_base,
    lag(h.value_weighted) OVER by_wave AS previous_value_weighted,
    lag(h.sd_weighted) OVER by_wave AS previous_sd_weighted,
    lag(h.effective_base) OVER by_wave AS previous_effective_base
FROM headline_indicators AS h
JOIN waves AS w USING (survey_id, wave_id)
WHERE h.survey_id = $survey_id
WINDOW by_wave AS (PARTITION BY h.indicator_id ORDER BY w.wave_order)
ORDER BY h.indicator_id, w.wave_order
