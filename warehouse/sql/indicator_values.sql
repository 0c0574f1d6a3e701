-- Numerator, base, value and suppression of every indicator in the catalogue (`indicators`) for one wave.
-- Parameters: $survey_id, $wave_id, $min_base (shares, means and medians on fewer respondents are suppressed).
-- A share's base is the respondents who answered its question: chose an option of a single-choice
-- question, ticked at least one option of a multiple-choice question, or gave a number; its numerator those
-- who chose one of its options, or gave a number in its range. A mean's base is the respondents counted by it
-- (for a theme, those who answered at least its min_items), its value the mean of their values and `sd` the
-- sample standard deviation (n - 1). A median is the middle value of a numeric question's answers (of an even
-- count, the mean of the two middle ones).
-- Shares and means are added up from the wave's counts per trust (`trust_question_bases`,
-- `trust_share_numerators`, `trust_mean_sums`, written with its load by the counting rules at the end of
-- schema.sql), in trust order so that the same counts give the same sums to the last digit; medians are taken
-- from the wave's answers.
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
means AS (
    SELECT indicator_id, sum(answered)::BIGINT AS answered, sum(total ORDER BY trust_code) AS total,
           sum(total_squares ORDER BY trust_code) AS total_squares
    FROM trust_mean_sums
    WHERE survey_id = $survey_id AND wave_id = $wave_id
    GROUP BY indicator_id
),
medians AS (
    SELECT indicator_id, count(*) AS answered, median(value) AS median
    FROM median_values($survey_id, $wave_id)
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
asked_questions AS (
    SELECT question_id FROM wave_questions WHERE survey_id = $survey_id AND wave_id = $wave_id
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
            WHEN i.indicator_kind IN ('count', 'coverage') THEN c.trusts_responding  -- trusts_responding, coverage
        END AS numerator,
        CASE i.indicator_kind
            WHEN 'share' THEN coalesce(b.base, 0)
            WHEN 'mean' THEN coalesce(m.answered, 0)
            WHEN 'median' THEN coalesce(d.answered, 0)
            WHEN 'coverage' THEN w.population_trusts
        END AS base,
        m.total / nullif(m.answered, 0) AS mean,
        sample_sd(m.answered, m.total, m.total_squares) AS sd,
        d.median
    FROM indicators AS i
    LEFT JOIN numerators AS n USING (indicator_id)
    LEFT JOIN means AS m USING (indicator_id)
    LEFT JOIN medians AS d USING (indicator_id)
    LEFT JOIN bases AS b ON b.question_id = i.question_id
    CROSS JOIN wave_counts AS c
    LEFT JOIN wave AS w ON TRUE
    LEFT JOIN asked_questions AS q ON q.question_id = i.question_id
    WHERE i.survey_id = $survey_id
      -- a share exists in a wave only if its question and every one of its options were asked; a mean only
      -- if every question it counts was; a median if its question was (the macros at the end of schema.sql)
      AND CASE i.indicator_kind
              WHEN 'share' THEN i.indicator_id IN (SELECT indicator_id FROM asked_shares($survey_id, $wave_id))
              WHEN 'mean' THEN i.indicator_id IN (SELECT indicator_id FROM asked_means($survey_id, $wave_id))
              WHEN 'median' THEN q.question_id IS NOT NULL
              ELSE true
          END
),
judged AS (
    -- Coverage counts trusts against a known population, and counts are counts: neither is an estimate from
    -- a sample, and neither is suppressed.
    SELECT *, indicator_kind IN ('share', 'mean', 'median') AND base < $min_base AS suppressed
    FROM indicator_rows
)
SELECT
    indicator_id, indicator_kind, question_id, label, numerator, base, suppressed,
    CASE WHEN indicator_kind IN ('share', 'coverage') AND base > 0 AND NOT coalesce(suppressed, false)
         THEN 100.0 * numerator / base END AS pct,
    CASE WHEN coalesce(suppressed, false) THEN NULL
         WHEN indicator_kind IN ('share', 'coverage') AND base > 0 THEN 100.0 * numerator / base
         WHEN indicator_kind = 'count' THEN numerator
         WHEN indicator_kind = 'mean' THEN mean
         WHEN indicator_kind = 'median' THEN median
    END AS value,
    CASE WHEN indicator_kind = 'mean' AND NOT suppressed THEN sd END AS sd
FROM judged
ORDER BY indicator_id
