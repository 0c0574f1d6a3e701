-- Every quarantine entry of a wave (one per failing cell or rule), and the rows they quarantine.
CREATE VIEW quarantine_entries AS
SELECT source_file, source_row, respondent_id, column_name, rule, offending_value,
       NULL::VARCHAR AS kept_source_file, NULL::BIGINT AS kept_source_row
FROM cell_entries
UNION ALL
SELECT source_file, source_row, respondent_id, column_name, rule, offending_value,
       kept_source_file, kept_source_row
FROM superseded_entries;

CREATE TABLE quarantined_rows AS
SELECT file_order, source_row FROM failed_rows
UNION
SELECT file_order, source_row FROM superseded_entries;
