-- The tidy warehouse: dimensions from the codebooks and reference list, one row per respondent per
-- wave, answers in long format, the load log, and the indicators. The values that must never be published
-- (refused cells, cleaned cells, free text) are in the private file: private_schema.sql.
-- Every statement is idempotent, so the schema can be ensured on every connection that writes.

CREATE TABLE IF NOT EXISTS waves (
    survey_id          VARCHAR NOT NULL,
    wave_id            VARCHAR NOT NULL,
    wave_order         INTEGER NOT NULL,
    fieldwork_start    DATE NOT NULL,
    fieldwork_end      DATE NOT NULL,
    population_trusts  INTEGER,            -- NULL when the wave's declaration gives none
    synthetic          BOOLEAN NOT NULL,
    PRIMARY KEY (survey_id, wave_id)
);
-- Databases made before waves could be declared in a wave.yaml required a population.
ALTER TABLE waves ALTER COLUMN population_trusts DROP NOT NULL;

CREATE TABLE IF NOT EXISTS questions (
    survey_id      VARCHAR NOT NULL,
    question_id    VARCHAR NOT NULL,
    question_order INTEGER NOT NULL,
    section        VARCHAR NOT NULL,   -- 'respondent' (e.g. role) or 'question'
    question_type  VARCHAR NOT NULL,   -- single, multiple, scale, numeric, text
    title          VARCHAR NOT NULL,
    wording        VARCHAR NOT NULL,
    required       BOOLEAN NOT NULL,
    PRIMARY KEY (survey_id, question_id)
);
-- Added with codebook version 2: a grid item's stem, and who a routed question was asked of.
ALTER TABLE questions ADD COLUMN IF NOT EXISTS grid_stem VARCHAR;
ALTER TABLE questions ADD COLUMN IF NOT EXISTS asked_if_question VARCHAR;
ALTER TABLE questions ADD COLUMN IF NOT EXISTS asked_if_options VARCHAR[];
-- Added with numeric questions: the smallest and largest number accepted, and whether only whole numbers are.
ALTER TABLE questions ADD COLUMN IF NOT EXISTS value_min DOUBLE;
ALTER TABLE questions ADD COLUMN IF NOT EXISTS value_max DOUBLE;
ALTER TABLE questions ADD COLUMN IF NOT EXISTS value_integer BOOLEAN;

CREATE TABLE IF NOT EXISTS options (
    survey_id    VARCHAR NOT NULL,
    question_id  VARCHAR NOT NULL,
    option_id    VARCHAR NOT NULL,
    option_order INTEGER NOT NULL,
    label        VARCHAR NOT NULL,
    PRIMARY KEY (survey_id, question_id, option_id)
);
-- Added with scale questions: an option's score on its scale, and whether its respondents are in the
-- question's base (false for "Don't know", "Not applicable": stored and counted, in no share's base).
ALTER TABLE options ADD COLUMN IF NOT EXISTS score DOUBLE;
ALTER TABLE options ADD COLUMN IF NOT EXISTS in_base BOOLEAN DEFAULT true;

-- What was asked in each wave: the question's wording then, and the options offered.
CREATE TABLE IF NOT EXISTS wave_questions (
    survey_id   VARCHAR NOT NULL,
    wave_id     VARCHAR NOT NULL,
    question_id VARCHAR NOT NULL,
    wording     VARCHAR NOT NULL,
    option_ids  VARCHAR[],
    PRIMARY KEY (survey_id, wave_id, question_id)
);

CREATE TABLE IF NOT EXISTS trusts (
    ods_code          VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    trust_type        VARCHAR,
    region            VARCHAR,
    ics               VARCHAR,
    predecessor_codes VARCHAR,
    merger_date       DATE
);

CREATE TABLE IF NOT EXISTS indicators (
    survey_id      VARCHAR NOT NULL,
    indicator_id   VARCHAR NOT NULL,
    indicator_kind VARCHAR NOT NULL,   -- share, mean, median, count, coverage
    label          VARCHAR NOT NULL,
    question_id    VARCHAR,
    option_ids     VARCHAR[],
    headline_order INTEGER,            -- position in the headline table; NULL if not a headline
    PRIMARY KEY (survey_id, indicator_id)
);
-- Added with scores and numbers: a share of a numeric question's answers in a range (both inclusive), and a
-- theme's items with the least of them a respondent must have answered to count.
ALTER TABLE indicators ADD COLUMN IF NOT EXISTS range_low DOUBLE;
ALTER TABLE indicators ADD COLUMN IF NOT EXISTS range_high DOUBLE;
ALTER TABLE indicators ADD COLUMN IF NOT EXISTS items VARCHAR[];
ALTER TABLE indicators ADD COLUMN IF NOT EXISTS min_items INTEGER;

CREATE TABLE IF NOT EXISTS respondents (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    respondent_id VARCHAR NOT NULL,    -- keyed hash of the survey tool's respondent id (a pseudonym)
    trust_code    VARCHAR,             -- current ODS code of the respondent's trust (NULL: the survey asks none)
    trust_code_reported VARCHAR,       -- as given: a code, a merged trust's old code, or a name
    submitted_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    source_file   VARCHAR NOT NULL,
    source_row    INTEGER NOT NULL
    -- No key: DuckDB holds a key's index in memory, which for millions of pseudonyms is more than a
    -- refresh may use. Each respondent is there once per wave: validation keeps one submission, and the
    -- load's reconciliation (wave_reconciliation.sql) rolls back a wave where any respondent appears twice.
);

-- Added with weighting: each respondent's weight in a weighted survey (NULL in an unweighted one).
ALTER TABLE respondents ADD COLUMN IF NOT EXISTS weight DOUBLE;

-- What each weighted wave's weights cost in precision, and what its population said (warehouse.weighting).
CREATE TABLE IF NOT EXISTS weighting_diagnostics (
    survey_id       VARCHAR NOT NULL,
    wave_id         VARCHAR NOT NULL,
    method          VARCHAR NOT NULL,   -- post_stratify or rake
    respondents     BIGINT NOT NULL,
    sum_of_weights  DOUBLE NOT NULL,    -- post-stratified: the population of the cells with respondents
    effective_base  DOUBLE NOT NULL,    -- Kish: (sum of weights)^2 / sum of squared weights
    efficiency      DOUBLE NOT NULL,    -- effective base / respondents
    design_effect   DOUBLE NOT NULL,    -- respondents / effective base
    min_weight      DOUBLE NOT NULL,
    median_weight   DOUBLE NOT NULL,
    max_weight      DOUBLE NOT NULL,
    trimmed_share   DOUBLE NOT NULL,    -- respondents whose weight was capped
    cells_without_respondents BIGINT NOT NULL,
    warnings        VARCHAR[] NOT NULL  -- cells with fewer people than respondents
);

-- The population file a post-stratified wave was weighted to (NULL when raked): name, sha256 and archived copy.
ALTER TABLE weighting_diagnostics ADD COLUMN IF NOT EXISTS population_file VARCHAR;
ALTER TABLE weighting_diagnostics ADD COLUMN IF NOT EXISTS population_sha256 VARCHAR;
ALTER TABLE weighting_diagnostics ADD COLUMN IF NOT EXISTS population_archived_as VARCHAR;

-- Added with surveys that ask no trust: a home made before holds the columns as NOT NULL.
ALTER TABLE respondents ALTER COLUMN trust_code DROP NOT NULL;
ALTER TABLE respondents ALTER COLUMN trust_code_reported DROP NOT NULL;

-- The codebook's respondent fields (a board role, an occupational group), one row per respondent per field
-- answered: the option chosen, labelled by `options` (question_id = field_id). Breakdown dimensions, never
-- indicators. (The first release kept one field, `respondents.role`; ensure_schema moves it here.)
CREATE TABLE IF NOT EXISTS respondent_fields (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    respondent_id VARCHAR NOT NULL,
    field_id      VARCHAR NOT NULL,    -- the field's column in the codebook
    option_id     VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS responses (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    respondent_id VARCHAR NOT NULL,
    question_id   VARCHAR NOT NULL,
    option_id     VARCHAR NOT NULL     -- the chosen option, or one ticked option
);

-- The numbers given to numeric questions, one row per respondent per question answered: another kind of
-- answer than an option chosen, kept apart from `responses` (a column for it beside every option chosen cost
-- writing 14 million long rows 8% more, for a survey with no numeric question at all).
CREATE TABLE IF NOT EXISTS numeric_responses (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    respondent_id VARCHAR NOT NULL,
    question_id   VARCHAR NOT NULL,
    value         DOUBLE NOT NULL      -- the number as given, read exactly (7.50 is 7.5)
);

CREATE TABLE IF NOT EXISTS load_log (
    survey_id        VARCHAR NOT NULL,
    wave_id          VARCHAR NOT NULL,
    source_file      VARCHAR NOT NULL,
    layout           VARCHAR NOT NULL,  -- plain_csv, microsoft_forms, surveymonkey, qualtrics, spss
    sha256           VARCHAR NOT NULL,
    size_bytes       BIGINT NOT NULL,
    rows_read        INTEGER NOT NULL,
    rows_loaded      INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    codebook_version VARCHAR NOT NULL,
    duplicate_of     VARCHAR,           -- an identical file of the same wave that was read instead
    archived_as      VARCHAR,           -- the copy kept under <home>/archive, named by its sha256
    run_id           VARCHAR NOT NULL,
    loaded_at        TIMESTAMP WITH TIME ZONE NOT NULL
);
-- What decided the load's result (files, wave.yaml, codebook as it applies to the wave): a wave is loaded
-- again when this differs for what is landed now (home/landing.py). Added after the first release.
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS inputs_fingerprint VARCHAR;
-- A fingerprint of the pseudonym key the wave was loaded under (an HMAC of a fixed text, not the key): a load
-- under another key would give its respondents pseudonyms that match no earlier wave's. Added later too.
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS key_fingerprint VARCHAR;
-- How a text file's bytes were decoded (UTF-8, UTF-8 with BOM, UTF-16, Windows-1252); NULL for workbooks and SPSS.
ALTER TABLE load_log ADD COLUMN IF NOT EXISTS encoding VARCHAR;

CREATE TABLE IF NOT EXISTS headline_indicators (
    survey_id      VARCHAR NOT NULL,
    wave_id        VARCHAR NOT NULL,
    indicator_id   VARCHAR NOT NULL,
    indicator_kind VARCHAR NOT NULL,
    question_id    VARCHAR,
    label          VARCHAR NOT NULL,
    numerator      BIGINT NOT NULL,
    base           BIGINT,             -- NULL for counts
    pct            DOUBLE,             -- 0-100; NULL for counts and when suppressed
    ci_low         DOUBLE,             -- Wilson interval, 0-100; NULL when not applicable or suppressed
    ci_high        DOUBLE,
    suppressed     BOOLEAN NOT NULL,
    trusts_base    BIGINT,             -- trusts with a respondent answering the question (shares)
    pct_trust_weighted DOUBLE,         -- each trust counts once: weight 1 / respondents from the trust
    PRIMARY KEY (survey_id, wave_id, indicator_id)
);
-- Added with means and medians: every indicator on its own scale (the percentage of a share or coverage, the
-- mean, the median, the count), and a mean's sample standard deviation; a mean or median has no numerator.
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS value DOUBLE;
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS sd DOUBLE;
ALTER TABLE headline_indicators ALTER COLUMN numerator DROP NOT NULL;
-- Added with weighting: a weighted survey's shares and means weighted, with their interval on Kish's effective
-- base and the design effect (unweighted base / effective base); NULL in an unweighted survey.
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS value_weighted DOUBLE;
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS ci_low_weighted DOUBLE;
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS ci_high_weighted DOUBLE;
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS effective_base DOUBLE;
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS design_effect DOUBLE;
ALTER TABLE headline_indicators ADD COLUMN IF NOT EXISTS sd_weighted DOUBLE;  -- a mean's, for its weighted trend
-- Rows computed before `value` existed: a share's or coverage's percentage, a count's count.
UPDATE headline_indicators SET value = CASE indicator_kind WHEN 'count' THEN numerator ELSE pct END
WHERE value IS NULL AND ((indicator_kind IN ('share', 'coverage') AND pct IS NOT NULL)
                         OR (indicator_kind = 'count' AND numerator IS NOT NULL));

-- Each share by trust type and by NHS region, with the headline's base, interval and suppression rules,
-- plus secondary suppression (a lone suppressed cell of a row would be revealed by subtraction).
CREATE TABLE IF NOT EXISTS indicator_breakdowns (
    survey_id      VARCHAR NOT NULL,
    wave_id        VARCHAR NOT NULL,
    indicator_id   VARCHAR NOT NULL,
    dimension      VARCHAR NOT NULL,   -- trust_type or region
    category       VARCHAR NOT NULL,
    numerator      BIGINT,             -- NULL when suppressed, or when 1 to 4 (never shown)
    base           BIGINT,             -- NULL when suppressed
    pct            DOUBLE,
    ci_low         DOUBLE,
    ci_high        DOUBLE,
    suppressed     BOOLEAN NOT NULL,
    suppression    VARCHAR,            -- 'small base' or 'secondary'
    PRIMARY KEY (survey_id, wave_id, indicator_id, dimension, category)
);
-- Added with means: a mean by group (its value and sample standard deviation; pct and numerator NULL).
ALTER TABLE indicator_breakdowns ADD COLUMN IF NOT EXISTS value DOUBLE;
ALTER TABLE indicator_breakdowns ADD COLUMN IF NOT EXISTS sd DOUBLE;
-- Added with weighting: a weighted survey's shares and means by group weighted, as in headline_indicators.
ALTER TABLE indicator_breakdowns ADD COLUMN IF NOT EXISTS value_weighted DOUBLE;
ALTER TABLE indicator_breakdowns ADD COLUMN IF NOT EXISTS ci_low_weighted DOUBLE;
ALTER TABLE indicator_breakdowns ADD COLUMN IF NOT EXISTS ci_high_weighted DOUBLE;
ALTER TABLE indicator_breakdowns ADD COLUMN IF NOT EXISTS effective_base DOUBLE;
ALTER TABLE indicator_breakdowns ADD COLUMN IF NOT EXISTS design_effect DOUBLE;

-- Each trust against trusts like it (warehouse.benchmarks): every trust and share or mean whose base in the
-- trust is at least the codebook's min_base, weighted where the survey is, beside its comparator group (the
-- qualifying trusts of its type) and tested against the rest of the country.
CREATE TABLE IF NOT EXISTS trust_benchmarks (
    survey_id        VARCHAR NOT NULL,
    wave_id          VARCHAR NOT NULL,
    trust_code       VARCHAR NOT NULL,
    trust_name       VARCHAR,
    comparator_group VARCHAR,            -- the trust's type in the reference list
    indicator_id     VARCHAR NOT NULL,
    indicator_kind   VARCHAR NOT NULL,   -- share or mean
    label            VARCHAR NOT NULL,
    base             BIGINT NOT NULL,    -- the trust's respondents in the indicator's base (unweighted)
    value            DOUBLE,             -- a share's percentage or a mean, weighted where the survey is
    ci_low           DOUBLE,
    ci_high          DOUBLE,
    effective_base   DOUBLE,
    weighted         BOOLEAN NOT NULL,
    group_trusts     BIGINT,             -- qualifying trusts of the group, the trust included
    group_lowest     DOUBLE,
    group_median     DOUBLE,
    group_highest    DOUBLE,
    rest_value       DOUBLE,             -- every other trust's respondents together
    p_value          DOUBLE,
    compared         VARCHAR,            -- above, below, not significantly different (from the rest), not tested
    PRIMARY KEY (survey_id, wave_id, trust_code, indicator_id)
);

-- One row per wave: what trust_benchmarks holds for it, and why nothing where it holds nothing.
CREATE TABLE IF NOT EXISTS trust_benchmark_waves (
    survey_id           VARCHAR NOT NULL,
    wave_id             VARCHAR NOT NULL,
    trusts_responding   BIGINT NOT NULL,
    trusts_benchmarked  BIGINT NOT NULL,
    figures_benchmarked BIGINT NOT NULL,
    figures_withheld    BIGINT NOT NULL, -- trusts left out of an indicator so that no hidden base can be subtracted
    min_base            INTEGER NOT NULL,
    weighted            BOOLEAN NOT NULL,
    note                VARCHAR NOT NULL,
    PRIMARY KEY (survey_id, wave_id)
);

-- Responding trusts by trust type and region, against the trusts of that kind in the reference list.
CREATE TABLE IF NOT EXISTS trust_coverage (
    survey_id           VARCHAR NOT NULL,
    wave_id             VARCHAR NOT NULL,
    dimension           VARCHAR NOT NULL,
    category            VARCHAR NOT NULL,
    trusts_responding   BIGINT NOT NULL,
    trusts_in_reference BIGINT NOT NULL,
    pct                 DOUBLE NOT NULL,
    PRIMARY KEY (survey_id, wave_id, dimension, category)
);

CREATE TABLE IF NOT EXISTS indicator_trends (
    survey_id        VARCHAR NOT NULL,
    indicator_id     VARCHAR NOT NULL,
    wave_id          VARCHAR NOT NULL,
    previous_wave_id VARCHAR,
    value            DOUBLE,           -- pct for shares and coverage, the count for counts
    previous_value   DOUBLE,
    change           DOUBLE,           -- percentage points (shares, coverage) or count difference
    comparable       BOOLEAN NOT NULL, -- false when the question's wording or options changed in between
    p_value          DOUBLE,           -- two-proportion z-test; NULL when not tested
    significant      BOOLEAN,          -- NULL when not tested
    note             VARCHAR,          -- why a change is not tested, if it is not
    PRIMARY KEY (survey_id, indicator_id, wave_id)
);
-- Added with weighting: the weighted value's change, tested on the effective bases (NULL where unweighted).
ALTER TABLE indicator_trends ADD COLUMN IF NOT EXISTS change_weighted DOUBLE;
ALTER TABLE indicator_trends ADD COLUMN IF NOT EXISTS significant_weighted BOOLEAN;

-- What each published analysts' snapshot held: one row per source file of each wave per publication.
-- Kept here as history; copied into every snapshot.
CREATE TABLE IF NOT EXISTS publications (
    run_id           VARCHAR NOT NULL,
    published_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    survey_id        VARCHAR NOT NULL,
    wave_id          VARCHAR NOT NULL,
    codebook_version VARCHAR NOT NULL,
    source_file      VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL,
    code_version     VARCHAR NOT NULL
);
ALTER TABLE publications ADD COLUMN IF NOT EXISTS inputs_fingerprint VARCHAR;

-- Waves withdrawn (`survey wave remove`, or `survey run --prune` for a landing folder that is gone): who,
-- when, and which loads. The wave's rows are gone from every other table; its files are in the archive.
CREATE TABLE IF NOT EXISTS wave_removals (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    removed_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    removed_by    VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,
    load_run_ids  VARCHAR[] NOT NULL,
    source_files  VARCHAR[] NOT NULL,
    respondents   BIGINT NOT NULL,
    archived_to   VARCHAR
);

-- Which load of each wave each per-wave result table was computed from: a publication refuses results
-- that lag behind their wave's latest load. Private to the working database.
CREATE TABLE IF NOT EXISTS wave_results (
    survey_id    VARCHAR NOT NULL,
    wave_id      VARCHAR NOT NULL,
    result_table VARCHAR NOT NULL,
    load_run_id  VARCHAR NOT NULL,
    PRIMARY KEY (survey_id, wave_id, result_table)
);

-- Why the file must be rebuilt before it is next copied for analysts (warehouse/connection.py): rows of
-- respondents and answers deleted (a wave loaded again, or withdrawn) stay in the file's free blocks until it
-- is. Private: the pipeline's own bookkeeping, emptied by the rebuild.
CREATE TABLE IF NOT EXISTS rebuild_reasons (
    reason   VARCHAR NOT NULL,
    noted_at TIMESTAMP WITH TIME ZONE NOT NULL
);
-- Each snapshot's size and time as written, kept by releases that built a snapshot from the one before: the
-- snapshot is now a copy of this file.
DROP TABLE IF EXISTS snapshot_files;

-- How many respondents of each trust answered each question, and chose the options each share indicator
-- counts, in one wave (`warehouse/trust_counts.py`): counted as the wave is loaded, from its rows while
-- they are one per respondent, so that indicators, trust-weighted shares and breakdowns add up a few
-- thousand counts instead of each joining millions of answers to their respondents. Private: a count for
-- a single trust can be small.
CREATE TABLE IF NOT EXISTS trust_question_bases (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    trust_code    VARCHAR NOT NULL,
    question_id   VARCHAR NOT NULL,
    answered      BIGINT NOT NULL,
    PRIMARY KEY (survey_id, wave_id, trust_code, question_id)
);

CREATE TABLE IF NOT EXISTS trust_share_numerators (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    trust_code    VARCHAR NOT NULL,
    indicator_id  VARCHAR NOT NULL,
    option_ids    VARCHAR[] NOT NULL,  -- the options counted (the catalogue's when counted)
    ticked        BIGINT NOT NULL,     -- zero included
    PRIMARY KEY (survey_id, wave_id, trust_code, indicator_id)
);
-- Added with numeric questions: the range counted, for a share of a numeric question's answers (its options []).
ALTER TABLE trust_share_numerators ADD COLUMN IF NOT EXISTS range_low DOUBLE;
ALTER TABLE trust_share_numerators ADD COLUMN IF NOT EXISTS range_high DOUBLE;

-- The respondents of each trust counted by each mean indicator of one wave (an item's mean score, a numeric
-- question's mean, a theme score), with the sum of their values and of their squares: what a mean, its
-- standard deviation and its breakdowns add up. Counted with the load like the counts above; private.
CREATE TABLE IF NOT EXISTS trust_mean_sums (
    survey_id     VARCHAR NOT NULL,
    wave_id       VARCHAR NOT NULL,
    trust_code    VARCHAR NOT NULL,
    indicator_id  VARCHAR NOT NULL,
    items         VARCHAR[] NOT NULL,  -- the questions counted (one, or a theme's items)
    min_items     INTEGER NOT NULL,    -- the items a respondent answered, at least, to count
    answered      BIGINT NOT NULL,     -- respondents counted
    total         DOUBLE NOT NULL,     -- the sum of their values
    total_squares DOUBLE NOT NULL,     -- the sum of their values' squares
    PRIMARY KEY (survey_id, wave_id, trust_code, indicator_id)
);

-- A wave counted before means existed counted none: its mean sums are those of its latest count (no row), so
-- that its results are still current without loading it again.
INSERT INTO wave_results
SELECT survey_id, wave_id, 'trust_mean_sums', load_run_id
FROM wave_results AS counted
WHERE result_table = 'trust_share_numerators'
  AND NOT EXISTS (SELECT 1 FROM wave_results AS m WHERE m.survey_id = counted.survey_id
                  AND m.wave_id = counted.wave_id AND m.result_table = 'trust_mean_sums');

-- A respondent's pseudonym: HMAC-SHA256 of survey id, unit separator, respondent id, under the respondent
-- key, as its first 24 hex digits; the same value as warehouse.pseudonyms.Pseudonymiser. The key is never
-- stored here: the load passes its pads (Pseudonymiser.pads) as parameters.
CREATE OR REPLACE MACRO keyed_pseudonym(inner_pad, outer_pad, survey, respondent) AS
    left(sha256(outer_pad || unhex(sha256(inner_pad || encode(survey || chr(31) || respondent)))), 24);

-- A sample standard deviation (n - 1 in the denominator) from the count, sum and sum of squares of the values:
-- NULL for fewer than two (a rounding error a hair below zero is none).
CREATE OR REPLACE MACRO sample_sd(answered, total, total_squares) AS
    CASE WHEN answered > 1
         THEN sqrt(greatest((total_squares - total * total / answered) / (answered - 1), 0)) END;

-- The trust a respondent is counted under in the counts by trust: theirs, or '' for a survey that asks no trust
-- (warehouse.trust_counts.NO_TRUST).
CREATE OR REPLACE MACRO counted_trust(trust_code) AS coalesce(trust_code, '');

-- The run of each wave's latest load.
CREATE OR REPLACE MACRO latest_load_runs() AS TABLE
    SELECT survey_id, wave_id, arg_max(run_id, loaded_at) AS run_id FROM load_log GROUP BY survey_id, wave_id;

-- The answers of one wave, and the two ways of counting them that indicators, breakdowns and
-- trust-weighted shares share. `responses` holds one row per respondent, question and option chosen,
-- so rows are counted as they are wherever no respondent can appear twice; DISTINCT (costly on millions
-- of rows) only where one can: several ticks of one multiple-choice question.
CREATE OR REPLACE MACRO wave_answers(survey, wave) AS TABLE
    SELECT a.respondent_id, a.question_id, a.option_id, q.question_type, coalesce(o.in_base, true) AS in_base,
           o.score, NULL::DOUBLE AS value
    FROM responses AS a
    JOIN questions AS q ON q.survey_id = a.survey_id AND q.question_id = a.question_id
    LEFT JOIN options AS o
      ON o.survey_id = a.survey_id AND o.question_id = a.question_id AND o.option_id = a.option_id
    WHERE a.survey_id = survey AND a.wave_id = wave AND a.option_id IS NOT NULL
    UNION ALL
    SELECT n.respondent_id, n.question_id, NULL, 'numeric', true, NULL, n.value
    FROM numeric_responses AS n
    WHERE n.survey_id = survey AND n.wave_id = wave;

-- One row per respondent per question in whose base they are: they chose an option, or ticked at least
-- one, other than an option excluded from the base ("Don't know"), or gave a number.
CREATE OR REPLACE MACRO answered_questions(survey, wave) AS TABLE
    SELECT respondent_id, question_id FROM wave_answers(survey, wave) WHERE question_type <> 'multiple' AND in_base
    UNION ALL
    SELECT DISTINCT respondent_id, question_id FROM wave_answers(survey, wave) WHERE question_type = 'multiple' AND in_base;

-- The share indicators of the catalogue asked in one wave: their question and every one of their options
-- (a share of a numeric question's range: the question).
CREATE OR REPLACE MACRO asked_shares(survey, wave) AS TABLE
    SELECT i.indicator_id, i.question_id, coalesce(i.option_ids, []) AS option_ids, i.range_low, i.range_high
    FROM indicators AS i
    JOIN wave_questions AS q ON q.survey_id = i.survey_id AND q.question_id = i.question_id
    WHERE i.survey_id = survey AND q.wave_id = wave AND i.indicator_kind = 'share'
      AND (i.range_low IS NOT NULL OR list_has_all(q.option_ids, i.option_ids));

-- One row per respondent counted by each share indicator (chose one of its options, or gave a number in its
-- range). The indicators' option lists are unnested so that answers join on equality: a join on list
-- membership compared every answer with every indicator of its question (11 s → 7 s for the indicators of
-- 1M respondents).
CREATE OR REPLACE MACRO share_ticks(survey, wave) AS TABLE
    WITH share_options AS (
        SELECT DISTINCT indicator_id, question_id, unnest(option_ids) AS option_id,
               len(list_distinct(option_ids)) AS options
        FROM indicators
        WHERE survey_id = survey AND indicator_kind = 'share' AND range_low IS NULL
    ),
    ticks AS (
        SELECT s.indicator_id, s.options, a.respondent_id, a.question_type
        FROM share_options AS s
        JOIN wave_answers(survey, wave) AS a ON a.question_id = s.question_id AND a.option_id = s.option_id
    )
    SELECT indicator_id, respondent_id FROM ticks WHERE question_type <> 'multiple' OR options = 1
    UNION ALL
    SELECT DISTINCT indicator_id, respondent_id FROM ticks WHERE question_type = 'multiple' AND options > 1
    UNION ALL
    SELECT i.indicator_id, a.respondent_id
    FROM indicators AS i
    JOIN wave_answers(survey, wave) AS a ON a.question_id = i.question_id
    WHERE i.survey_id = survey AND i.indicator_kind = 'share' AND a.value BETWEEN i.range_low AND i.range_high;

-- The mean indicators of the catalogue asked in one wave (an item's mean score, a numeric question's mean,
-- a theme score, whose items must all have been asked), with the questions each counts.
CREATE OR REPLACE MACRO asked_means(survey, wave) AS TABLE
    SELECT i.indicator_id, coalesce(i.items, [i.question_id]) AS items, coalesce(i.min_items, 1) AS min_items
    FROM indicators AS i
    WHERE i.survey_id = survey AND i.indicator_kind = 'mean'
      AND list_has_all((SELECT list(question_id) FROM wave_questions WHERE survey_id = survey AND wave_id = wave),
                       coalesce(i.items, [i.question_id]));

-- One row per respondent counted by each median indicator, with the number they gave (a median is taken over
-- them: it cannot be added up from counts by trust).
CREATE OR REPLACE MACRO median_values(survey, wave) AS TABLE
    SELECT i.indicator_id, a.respondent_id, a.value
    FROM indicators AS i
    JOIN wave_answers(survey, wave) AS a ON a.question_id = i.question_id
    WHERE i.survey_id = survey AND i.indicator_kind = 'median' AND a.value IS NOT NULL;

-- One row per respondent counted by each mean indicator, with their value: an item's score (an option out of
-- the base has none), a number, or the mean of a respondent's scores on a theme's items when they answered
-- at least its min_items of them.
CREATE OR REPLACE MACRO mean_values(survey, wave) AS TABLE
    WITH item_values AS (
        SELECT m.indicator_id, m.min_items, a.respondent_id, coalesce(a.score, a.value) AS value
        FROM asked_means(survey, wave) AS m
        JOIN wave_answers(survey, wave) AS a ON list_contains(m.items, a.question_id)
        WHERE coalesce(a.score, a.value) IS NOT NULL
    )
    SELECT indicator_id, respondent_id, avg(value) AS value
    FROM item_values
    GROUP BY indicator_id, respondent_id, min_items
    HAVING count(*) >= min_items;

-- One row per respondent in the base of each share and mean indicator of one wave, with their value: 1 or 0
-- for a share (counted by it or not), their value for a mean. What weighted figures are summed over, so that a
-- weighted figure has the same base as the unweighted one.
CREATE OR REPLACE MACRO respondent_values(survey, wave) AS TABLE
    SELECT s.indicator_id, a.respondent_id, CASE WHEN t.respondent_id IS NULL THEN 0.0 ELSE 1.0 END AS value
    FROM asked_shares(survey, wave) AS s
    JOIN answered_questions(survey, wave) AS a USING (question_id)
    LEFT JOIN share_ticks(survey, wave) AS t ON t.indicator_id = s.indicator_id AND t.respondent_id = a.respondent_id
    UNION ALL
    SELECT indicator_id, respondent_id, value FROM mean_values(survey, wave);

-- The reported group of each trust in each reference dimension named in `dimensions` (trust_type, region),
-- pooled as `pooled` ([dimension, group, reported as] lists) says.
CREATE OR REPLACE MACRO trust_groups(dimensions, pooled) AS TABLE
    WITH pooled_groups AS (
        SELECT p[1] AS dimension, p[2] AS category, p[3] AS reported FROM (SELECT unnest(pooled::VARCHAR[][]) AS p)
    )
    SELECT c.trust_code, c.dimension, coalesce(p.reported, c.category) AS category
    FROM (
        SELECT ods_code AS trust_code, 'trust_type' AS dimension, trust_type AS category FROM trusts
        UNION ALL
        SELECT ods_code AS trust_code, 'region' AS dimension, region AS category FROM trusts
    ) AS c
    LEFT JOIN pooled_groups AS p USING (dimension, category)
    WHERE list_contains(dimensions::VARCHAR[], c.dimension);

-- The reported group of each respondent of one wave in each respondent field named in `fields` (the label of
-- the option they chose), pooled as `pooled` says.
CREATE OR REPLACE MACRO field_groups(survey, wave, fields, pooled) AS TABLE
    WITH pooled_groups AS (
        SELECT p[1] AS dimension, p[2] AS category, p[3] AS reported FROM (SELECT unnest(pooled::VARCHAR[][]) AS p)
    )
    SELECT f.respondent_id, f.field_id AS dimension, coalesce(p.reported, o.label) AS category
    FROM respondent_fields AS f
    JOIN options AS o ON o.survey_id = f.survey_id AND o.question_id = f.field_id AND o.option_id = f.option_id
    LEFT JOIN pooled_groups AS p ON p.dimension = f.field_id AND p.category = o.label
    WHERE f.survey_id = survey AND f.wave_id = wave AND list_contains(fields::VARCHAR[], f.field_id);

-- A figure as the pack and the brief tell it: the weighted one where the survey is weighted (its value is
-- there), else the unweighted one. One rule for every table they read.
CREATE OR REPLACE MACRO as_told(value_weighted, weighted, unweighted) AS
    CASE WHEN value_weighted IS NOT NULL THEN weighted ELSE unweighted END;
