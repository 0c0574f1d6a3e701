-- Respondents of each trust counted by each mean indicator asked in one wave ($survey_id, $wave_id), with the
-- sum of their values and of their squares: the rows of `trust_mean_sums`, a row for every trust of the wave
-- and indicator (zeros too). The counting rule (mean_values) is a macro at the end of schema.sql.
WITH asked_means AS (
    SELECT indicator_id, items, min_items FROM asked_means($survey_id, $wave_id)
),
wave_trusts AS (
    SELECT DISTINCT counted_trust(trust_code) AS trust_code FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
sums AS (
    SELECT counted_trust(r.trust_code) AS trust_code, v.indicator_id, count(*) AS answered, fsum(v.value) AS total,
           fsum(v.value * v.value) AS total_squares
    FROM mean_values($survey_id, $wave_id) AS v
    JOIN respondents AS r
      ON r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = v.respondent_id
    GROUP BY ALL
)
SELECT $survey_id AS survey_id, $wave_id AS wave_id, w.trust_code, m.indicator_id, m.items, m.min_items,
       coalesce(s.answered, 0) AS answered, coalesce(s.total, 0) AS total, coalesce(s.total_squares, 0) AS total_squares
FROM asked_means AS m
CROSS JOIN wave_trusts AS w
LEFT JOIN sums AS s ON s.trust_code = w.trust_code AND s.indicator_id = m.indicator_id
