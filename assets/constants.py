"""Names shared by assets, checks, jobs, sensors and tests."""

WAVE_PARTITIONS = "survey_waves"
# The run tag naming the survey a run refreshes: the queue lets one run per survey out at a time (dagster.yaml),
# and the steps across waves refresh only that survey.
SURVEY_TAG = "survey_id"

GROUP_DIMENSIONS = "dimensions"
GROUP_INGEST = "ingest"
GROUP_INDICATORS = "indicators"
GROUP_PUBLISH = "publish"

CHECK_FILES_READABLE = "files_readable"
CHECK_ROWS_RECONCILE = "rows_reconcile"
CHECK_QUARANTINE_SHARE = "quarantine_share_below_limit"
CHECK_FIELDWORK = "submission_times_in_fieldwork"
CHECK_NOT_ANOTHER_WAVES_FILES = "files_not_another_waves"
CHECK_SAME_RESPONDENT_KEY = "same_respondent_key_as_earlier_waves"
CHECK_INDICATORS_VALID = "indicator_values_valid"
CHECK_CODEBOOK_KEEPS_ANSWERS = "codebook_keeps_loaded_answers"

# Above this share of quarantined rows a wave is probably the wrong layout or survey: worth a look.
QUARANTINE_SHARE_LIMIT = 0.10
# Above this share it is refused before it is loaded, unless its wave.yaml sets max_quarantined_share.
QUARANTINE_REFUSAL_SHARE = 0.50
# Above this share of submission times outside its fieldwork a wave is refused (another wave's file, or
# the wrong dates), unless its wave.yaml sets accept_times_outside_fieldwork; any is a warning.
FIELDWORK_REFUSAL_SHARE = 0.10

FINGERPRINT_METADATA = "landing_fingerprint"
FIGURES_CHANGED_METADATA = "published_figures_changed"  # of a wave computed again: how many differ
PUBLISHED_WAVES_METADATA = "published_waves"  # partition key → landing fingerprint of what analysts have
