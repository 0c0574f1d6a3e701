-- The views of the analysts' snapshot that every survey shares, created in the snapshot itself (as the
-- default database) so that their tables are the file's own wherever it is opened. The per-survey wide
-- views are generated from the codebooks (warehouse/snapshot_views.py). Each view must stay readable by
-- the oldest client the snapshot is written for (connection.STORAGE_VERSION): the view is
-- stored as its query and bound again by the client that runs it, so it can use only functions that
-- client has.

-- Closed answers with the words respondents read: the question's wording in that wave and the option's
-- label. A view keeps no row order: ORDER BY question_order, option_order for the questionnaire's.
CREATE VIEW responses_labelled AS
SELECT a.survey_id, a.wave_id, a.respondent_id,
       a.question_id, q.question_order, w.wording AS question_wording,
       a.option_id, o.option_order, o.label AS option_label
FROM responses AS a
LEFT JOIN questions AS q ON q.survey_id = a.survey_id AND q.question_id = a.question_id
LEFT JOIN wave_questions AS w
       ON w.survey_id = a.survey_id AND w.wave_id = a.wave_id AND w.question_id = a.question_id
LEFT JOIN options AS o
       ON o.survey_id = a.survey_id AND o.question_id = a.question_id AND o.option_id = a.option_id;
