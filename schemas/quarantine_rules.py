"""The quarantine rules: the name stored in ``quarantine.rule``, and the sentence a person reads.

Named here, below both the export readers (``exports``, which quarantine a row cut short or an unknown
label inside a joined cell) and the pandera schema (``schemas.response_schema``), so that each names a
rule without importing the other. What does not belong here: checking anything.
"""

from __future__ import annotations

RULE_FIELD_COUNT = "field_count"
RULE_ENCODING = "encoding"
RULE_UNCALCULATED = "formula_without_value"
RULE_OPTION_LABEL = "allowed_option_label"
RULE_REQUIRED = "required"
RULE_SUPERSEDED = "superseded"
RULE_INCOMPLETE = "incomplete"
RULE_KNOWN_TRUST = "known_trust_code"
RULE_OPTION_FLAG = "option_flag_0_or_1"
RULE_TIMESTAMP = "timestamp_parses"
RULE_MAX_LENGTH = "text_max_length"
RULE_AT_LEAST_ONE_OPTION = "at_least_one_option"
RULE_EXCLUSIVE_OPTION = "exclusive_option"
RULE_NUMERIC_VALUE = "numeric_value"
# Not a refusal: an answer to a question the routing says was not asked, cleaned away (``cleaning_log``).
RULE_NOT_ROUTED = "not_routed"

RULES: dict[str, str] = {
    RULE_REQUIRED: "a value is required",
    RULE_SUPERSEDED: "the same respondent submitted again later; the later submission is kept",
    RULE_INCOMPLETE: "a partial response (not finished, or no completion time)",
    RULE_KNOWN_TRUST: "must be the ODS code of a trust in the reference list",
    RULE_OPTION_LABEL: "must be one of the question's option labels",
    RULE_OPTION_FLAG: "an option column must hold 0 or 1",
    RULE_TIMESTAMP: "must be a date and time such as 2023-09-14T10:30:00",
    RULE_MAX_LENGTH: "is longer than the codebook allows",
    RULE_AT_LEAST_ONE_OPTION: "a required multiple-choice question needs at least one option ticked",
    RULE_NOT_ROUTED: "an answer to a question the routing says was not asked; cleaned away, the row loads",
    RULE_EXCLUSIVE_OPTION: "an option that excludes the others (such as \"None of these\") is ticked with another option",
    RULE_NUMERIC_VALUE: ("must be a number written plainly, such as 7 or 7.5 (no exponent, thousands separator or "
                         "decimal comma; at most 15 digits), whole where the question asks for one, "
                         "and within its minimum and maximum"),
    RULE_FIELD_COUNT: "the row does not have one cell per column (cut short, or extra cells)",
    RULE_ENCODING: "the cell holds bytes that are not UTF-8 text, in a file read as UTF-8",
    RULE_UNCALCULATED: "a formula saved without its value (open the workbook in Excel and save it, or export CSV)",
}
