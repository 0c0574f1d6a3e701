-- Respondents of each trust counted by each share indicator asked in one wave ($survey_id, $wave_id):
-- the rows of `trust_share_numerators`, a row for every trust of the wave and indicator (zeros too), with
-- the option ids (or the range) counted. The counting rule (share_ticks) is a macro at the end of schema.sql.
WITH asked_shares AS (
    SELECT indicator_id, option_ids, range_low, range_high FROM asked_shares($survey_id, $wave_id)
),
wave_trusts AS (
    SELECT DISTINCT counted_trust(trust_code) AS trust_code FROM respondents
    WHERE survey_id = $survey_id AND wave_id = $wave_id
),
ticked AS (
    SELECT counted_trust(r.trust_code) AS trust_code, t.indicator_id, count(*) AS ticked
    FROM share_ticks($survey_id, $wave_id) AS t
    JOIN respondents AS r
      ON r.survey_id = $survey_id AND r.wave_id = $wave_id AND r.respondent_id = t.respondent_id
    GROUP BY ALL
)
SELECT $survey_id AS survey_id, $wave_id AS wave_id, w.trust_code, s.indicator_id, s.option_ids,
       s.range_low, s.range_high, coalesce(k.ticked, 0) AS ticked
FROM asked_shares AS s
CROSS JOIN wave_trusts AS w
LEFT JOIN ticked AS k ON k.trust_code = w.trust_code AND k.indicator_id = s.indicator_id
