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
    SELECT i.indicator_id, i.option_ids
    FROM indicators AS i
    JOIN wave_questions AS q ON q.survey_id = i.survey_id AND q.question_id = i.question_id
    WHERE i.survey_id = $survey_id AND q.wave_id = $wave_id AND i.indicator_kind = 'share'
      AND list_has_all(q.option_ids, i.option_ids)
),
counted AS (
    SELECT DISTINCT indicator_id, option_ids
    FROM trust_share_numerators
    WHERE survey_id = $survey_id AND wave_id = $wave_id
)
SELECT (SELECT tables FROM from_latest) = 2
   AND NOT EXISTS (SELECT * FROM asked_shares EXCEPT SELECT * FROM counted)
   AND NOT EXISTS (SELECT * FROM counted EXCEPT SELECT * FROM asked_shares)
