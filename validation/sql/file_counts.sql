-- Rows read (as records), loaded and quarantined in each file of a wave ($files: the file names, in order).
WITH files AS (
    SELECT unnest($files) AS source_file, generate_subscripts($files, 1) - 1 AS file_order
)
SELECT files.source_file,
       (SELECT count(*) FROM wave_rows AS w WHERE w.file_order = files.file_order) AS rows_read,
       (SELECT count(*) FROM valid_rows AS v WHERE v.file_order = files.file_order) AS rows_loaded,
       (SELECT count(*) FROM quarantined_rows AS q WHERE q.file_order = files.file_order) AS rows_quarantined
FROM files
ORDER BY files.file_order;
