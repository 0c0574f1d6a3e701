-- Whether one wave's counts by trust (trust_question_bases, trust_share_numerators) can be added up as
-- they are: both come from the wave's latest load, and they count exactly the share indicators the
-- catalogue now asks in the wave, with the same options. Parameters: $survey_id, $wave_id.
WITH latest_load AS (
    SELECT arg_max(run_id, loaded_at) AS run_id
    FROM load_log
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
from_latest AS (
    SELECT count(*) AS tables
    FROM wave_results AS r, latest_load AS l
    WHERE r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.load_run_id = l.run_id
      AND r.result_table IN ('trust_question_bases', 'trust_share_numerators')
),
asked_shares AS (
    SELECT indicator_id, option_ids FROM asked_shares($survey_id, $wave_id)
),
counted AS (
    SELECT DISTINCT indicator_id, option_ids
    FROM trust_share_numerators
    WHERE survey_id = $survey_id AND wave_id = $wave_id
)
SELECT (SELECT tables FROM from_latest) = 2
   AND NOT EXISTS (SELECT * FROM asked_shares EXCEPT SELECT * FROM counted)
   AND NOT EXISTS (SELECT * FROM counted EXCEPT SELECT * FROM asked_shares)
