-- Each trust's headline shares and means of one wave against trusts like it (trust_benchmarks), in trust name and
-- headline order. Parameters: $survey_id, $wave_id. Aggregates only.
SELECT b.trust_code, b.trust_name, b.comparator_group, b.indicator_id, b.indicator_kind, b.label, b.base, b.value,
       b.ci_low, b.ci_high, b.weighted, b.group_trusts, b.group_lowest, b.group_median, b.group_highest, b.compared
FROM trust_benchmarks AS b
JOIN indicators AS i USING (survey_id, indicator_id)
WHERE b.survey_id = $survey_id AND b.wave_id = $wave_id AND i.headline_order IS NOT NULL
ORDER BY b.trust_name, b.trust_code, i.headline_order
