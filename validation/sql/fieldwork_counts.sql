-- Rows read with a submission time, and those of them outside the wave's fieldwork: its dates inclusive,
-- as the calendar in England shows them (Europe/London). Parameters: $start, $end (dates).
SELECT count(submitted_at_parsed) AS timed,
       count_if(CAST(timezone('Europe/London', submitted_at_parsed) AS DATE) NOT BETWEEN $start AND $end) AS outside
FROM wave_rows
