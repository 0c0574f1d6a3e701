-- The breakdown cells of one wave that are hidden (small base, or secondary suppression). Parameters: $survey_id,
-- $wave_id.
SELECT indicator_id, dimension, category FROM indicator_breakdowns
WHERE survey_id = $survey_id AND wave_id = $wave_id AND suppressed
