-- The weighting diagnostics of a survey's waves in the pack (weighting_diagnostics). Parameters: $survey_id, $waves.
SELECT d.wave_id, d.method, d.respondents, d.sum_of_weights, d.effective_base, d.efficiency, d.design_effect,
       d.min_weight, d.median_weight, d.max_weight, d.trimmed_share, d.cells_without_respondents, len(d.warnings) AS cells_over_headcount
FROM weighting_diagnostics AS d
JOIN waves AS w USING (survey_id, wave_id)
WHERE d.survey_id = $survey_id AND list_contains($waves, d.wave_id)
ORDER BY w.wave_order
