-- Responding trusts of one wave by trust type and by NHS region, against the trusts of that type or
-- region in the reference list. Parameters: $survey_id, $wave_id. No rows for a survey that asks no trust.
WITH responding AS (
    SELECT DISTINCT trust_code FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id AND trust_code IS NOT NULL
),
reference AS (
    SELECT ods_code, 'trust_type' AS dimension, trust_type AS category FROM trusts
    UNION ALL
    SELECT ods_code, 'region' AS dimension, region AS category FROM trusts
)
SELECT
    r.dimension,
    r.category,
    count(p.trust_code) AS trusts_responding,
    count(*) AS trusts_in_reference,
    100.0 * count(p.trust_code) / count(*) AS pct
FROM reference AS r
LEFT JOIN responding AS p ON p.trust_code = r.ods_code
WHERE EXISTS (SELECT 1 FROM responding)
GROUP BY r.dimension, r.category
ORDER BY r.dimension, r.category
