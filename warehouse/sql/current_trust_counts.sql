-- Whether one wave's counts by trust (trust_question_bases, trust_share_numerators, trust_mean_sums) can be
-- added up as they are: all come from the wave's latest load, and they count exactly the share and mean
-- indicators the catalogue now asks in the wave, as it defines them. Parameters: $survey_id, $wave_id.
WITH latest_load AS (
    SELECT run_id FROM latest_load_runs() WHERE survey_id = $survey_id AND wave_id = $wave_id
),
from_latest AS (
    SELECT count(*) AS tables
    FROM wave_results AS r, latest_load AS l
    WHERE r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.load_run_id = l.run_id
      AND r.result_table IN ('trust_question_bases', 'trust_share_numerators', 'trust_mean_sums')
),
asked_shares AS (
    SELECT indicator_id, option_ids, range_low, range_high FROM asked_shares($survey_id, $wave_id)
),
counted_shares AS (
    SELECT DISTINCT indicator_id, option_ids, range_low, range_high
    FROM trust_share_numerators
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
asked_means AS (
    SELECT indicator_id, items, min_items FROM asked_means($survey_id, $wave_id)
),
counted_means AS (
    SELECT DISTINCT indicator_id, items, min_items
    FROM trust_mean_sums
    WHERE survey_id = $survey_id AND wave_id = $wave_id
)
SELECT (SELECT tables FROM from_latest) = 3
   AND NOT EXISTS (SELECT * FROM asked_shares EXCEPT SELECT * FROM counted_shares)
   AND NOT EXISTS (SELECT * FROM counted_shares EXCEPT SELECT * FROM asked_shares)
   AND NOT EXISTS (SELECT * FROM asked_means EXCEPT SELECT * FROM counted_means)
   AND NOT EXISTS (SELECT * FROM counted_means EXCEPT SELECT * FROM asked_means)
