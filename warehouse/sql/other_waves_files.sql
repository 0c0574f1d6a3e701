-- Files of the latest load of every other wave of the survey whose bytes are one of $digests: a delivery
-- holding one is probably another wave's export landed in the wrong folder. Bytes the wave's own latest load held already
-- are not counted (a wave loaded again, its files accepted on purpose before), nor are a withdrawn wave's
-- (`survey wave remove` deletes its rows of load_log).
WITH latest AS (
    SELECT survey_id, wave_id, run_id FROM latest_load_runs()
),
latest_files AS (
    SELECT log.* FROM load_log AS log JOIN latest USING (survey_id, wave_id, run_id)
)
SELECT DISTINCT sha256, survey_id, wave_id, source_file
FROM latest_files
WHERE survey_id = $survey_id AND wave_id <> $wave_id
  AND list_contains($digests, sha256)
  AND sha256 NOT IN (SELECT sha256 FROM latest_files WHERE survey_id = $survey_id AND wave_id = $wave_id)
ORDER BY ALL
