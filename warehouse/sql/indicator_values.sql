-- Numerator, base, percentage and suppression of every indicator in the catalogue (`indicators`) for one
-- wave. Parameters: $survey_id, $wave_id, $min_base (shares on fewer respondents are suppressed).
-- A share's base is the respondents who answered its question: chose an option of a single-choice
-- question, or ticked at least one option of a multiple-choice question.
-- Both are added up from the wave's counts per trust (`trust_question_bases`, `trust_share_numerators`,
-- written with its load by the counting rules at the end of schema.sql).
WITH bases AS (
    SELECT question_id, sum(answered)::BIGINT AS base
    FROM trust_question_bases
    WHERE survey_id = $survey_id AND wave_id = $wave_id
    GROUP BY question_id
),
numerators AS (
    SELECT indicator_id, sum(ticked)::BIGINT AS numerator
    FROM trust_share_numerators
    WHERE survey_id = $survey_id AND wave_id = $wave_id
    GROUP BY indicator_id
),
wave_counts AS (
    SELECT count(*) AS respondents, count(DISTINCT trust_code) AS trusts_responding
    FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
wave AS (
    SELECT population_trusts FROM waves WHERE survey_id = $survey_id AND wave_id = $wave_id
),
asked AS (
    SELECT question_id, option_ids FROM wave_questions WHERE survey_id = $survey_id AND wave_id = $wave_id
),
indicator_rows AS (
    SELECT
        i.indicator_id,
        i.indicator_kind,
        i.question_id,
        i.label,
        CASE
            WHEN i.indicator_kind = 'share' THEN coalesce(n.numerator, 0)
            WHEN i.indicator_id = 'respondents' THEN c.respondents
            ELSE c.trusts_responding
        END AS numerator,
        CASE i.indicator_kind
            WHEN 'share' THEN coalesce(b.base, 0)
            WHEN 'coverage' THEN w.population_trusts
        END AS base
    FROM indicators AS i
    LEFT JOIN numerators AS n USING (indicator_id)
    LEFT JOIN bases AS b ON b.question_id = i.question_id
    CROSS JOIN wave_counts AS c
    LEFT JOIN wave AS w ON TRUE
    LEFT JOIN asked AS q ON q.question_id = i.question_id
    WHERE i.survey_id = $survey_id
      -- a share exists in a wave only if its question and every one of its options were asked
      AND (i.indicator_kind <> 'share' OR list_has_all(q.option_ids, i.option_ids))
)
SELECT
    *,
    -- Coverage counts trusts against a known population: not a sample estimate, never suppressed.
    indicator_kind = 'share' AND base < $min_base AS suppressed,
    CASE WHEN indicator_kind IN ('share', 'coverage') AND base > 0 AND NOT coalesce(suppressed, false)
         THEN 100.0 * numerator / base END AS pct
FROM indicator_rows
ORDER BY indicator_id
