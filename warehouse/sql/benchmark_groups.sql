-- Every trust of the reference list with its name and its group in each reference dimension in $dimensions,
-- pooled as $pooled says (trust_groups), and in the group of every trust ('national', 'England'): the comparator
-- groups of trust benchmarks and the published groups a benchmark must not give away by subtraction.
-- Parameters: $dimensions, $pooled ($survey_id and $wave_id are not used).
SELECT g.trust_code, t.name AS trust_name, g.dimension, g.category
FROM trust_groups($dimensions, $pooled) AS g
JOIN trusts AS t ON t.ods_code = g.trust_code
UNION ALL
SELECT ods_code, name, 'national', 'England' FROM trusts
