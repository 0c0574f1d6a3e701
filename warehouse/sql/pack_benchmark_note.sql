-- What the wave's trust benchmarks hold, or why nothing, in words (trust_benchmark_waves). Parameters: $survey_id,
-- $wave_id.
SELECT note FROM trust_benchmark_waves WHERE survey_id = $survey_id AND wave_id = $wave_id
