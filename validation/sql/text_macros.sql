-- Macros of the staging connection for text cells: Python's white space, and the key by which an email
-- matches another (schemas/emails.py says which emails identify a person; this is the one place the key is
-- computed). Created on each staging connection (validation/rules.py), as temporary macros.

-- Python's white space (str.isspace: what str.strip() and str.split() remove, and so what the export
-- readers strip from a cell) as a class of DuckDB's regular expressions (RE2), whose own \s is ASCII only.
-- tests/test_emails.py checks it against str.isspace over every code point.
CREATE OR REPLACE TEMP MACRO white_space() AS
    '[\x{9}-\x{D}\x{1C}-\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]';

-- Whether str.strip() would change a cell, or leave nothing of it: only such cells of a column with no check
-- of its values (a respondent id) need to be seen by Python.
CREATE OR REPLACE TEMP MACRO strip_changes(cell) AS
    cell = '' OR regexp_matches(cell, '^' || white_space() || '|' || white_space() || '$');

-- An email as emails are compared: lower case, curly quotes straightened, white space trimmed and runs of it
-- made one space.
-- (Regular expressions for the quotes rather than translate(), which took four times as long.)
CREATE OR REPLACE TEMP MACRO email_fold(email) AS
    lower(trim(regexp_replace(regexp_replace(regexp_replace(email, '[‘’‚‛′]', '''', 'g'), '[“”„″]', '"', 'g'),
                              white_space() || '+', ' ', 'g')));

-- The key of a folded email: itself if it is plausible ([^@ ]+@[^@ ]+\.[^@ .]+: a local part, one @, a
-- domain with a dot, no space) and not a placeholder (a whole value, or a local part followed by @, in
-- `placeholders`, folded alike); otherwise NULL: it identifies nobody.
CREATE OR REPLACE TEMP MACRO folded_email_key(folded, placeholders) AS
    CASE WHEN regexp_full_match(folded, '[^@ ]+@[^@ ]+\.[^@ .]+')
              AND NOT list_contains(placeholders, folded)
              AND NOT list_contains(placeholders, split_part(folded, '@', 1) || '@')
         THEN folded END;
