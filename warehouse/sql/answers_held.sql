-- The answers a wave holds to one question ($option_id NULL: any option, number or free text) or one option.
SELECT (SELECT count(*) FROM responses
        WHERE survey_id = $survey_id AND wave_id = $wave_id AND question_id = $question_id
          AND ($option_id IS NULL OR option_id = $option_id))
     + (SELECT count(*) FROM numeric_responses
        WHERE survey_id = $survey_id AND wave_id = $wave_id AND question_id = $question_id AND $option_id IS NULL)
     + (SELECT count(*) FROM private.free_text_responses
        WHERE survey_id = $survey_id AND wave_id = $wave_id AND question_id = $question_id AND $option_id IS NULL
          AND run_id IN (SELECT run_id FROM latest_load_runs() WHERE survey_id = $survey_id AND wave_id = $wave_id))
