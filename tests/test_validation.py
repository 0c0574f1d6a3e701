"""Validation: good rows pass, each rule quarantines the right row with its reason, bad files are refused."""

from __future__ import annotations

import numpy as np
import pytest

from exports import WaveFileRejected
from tests.conftest import read_sample, sample_wave_path, write_csv
from validation.engine import validate_wave

FILE = "wave.csv"
WAVE = "2024"  # the rows below come from the 2024 sample


@pytest.fixture(autouse=True)
def staging_in_tmp(monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # staging folders of this test


@pytest.fixture()
def good_rows():
    """Twenty real rows of the 2024 sample, which contains respondents who skipped the optional questions."""
    return read_sample("2024").head(20).copy()


def _validate(tmp_path, frame, codebook, resolver):
    return validate_wave([write_csv(frame, tmp_path / FILE)], codebook, WAVE, resolver)


def test_every_bundled_row_is_valid(codebook, resolver):
    for wave_id in ("2023", "2024", "2025"):
        result = validate_wave([sample_wave_path(wave_id)], codebook, wave_id, resolver)
        assert result.rows_quarantined == 0
        assert result.rows_loaded == result.rows_read == len(read_sample(wave_id))


def test_personal_data_is_dropped_before_anything_else(tmp_path, good_rows, codebook, resolver):
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert "name" not in result.valid_rows().columns and "email" not in result.valid_rows().columns
    text = result.valid_rows().to_csv() + result.quarantine.to_csv()
    assert good_rows["email"].iloc[0] not in text


# (cell to corrupt: row position, column, new value) → expected rule
RULE_CASES = [
    ((3, "trust_approach_stage", "We are nearly there"), "allowed_option_label"),
    ((4, "role", "Chair person"), "allowed_option_label"),
    ((5, "trust_code", "ZZZ99"), "known_trust_code"),
    ((6, "trust_barriers.funding", "2"), "option_flag_0_or_1"),
    ((7, "trust_barriers.funding", "yes"), "option_flag_0_or_1"),
    ((8, "submitted_at", "31/02/2024 25:00"), "timestamp_parses"),
    ((9, "trust_impact_alignment", None), "required"),
    ((10, "respondent_id", None), "required"),
    ((11, "comments", "x" * 2001), "text_max_length"),
    ((12, "trust_code", None), "required"),
    ((13, "role", None), "required"),
    ((14, "respondent_id", "   "), "required"),  # blank after stripping
]
# How each value is shown in a reason (and so in Dagster and the terminal): never the characters.
DESCRIBED = {
    "We are nearly there": "19 characters: letters and spaces", "Chair person": "12 characters: letters and spaces",
    "ZZZ99": "5 characters: letters and digits", "2": "1 character: digits", "yes": "3 characters: letters",
    "31/02/2024 25:00": "16 characters: digits, spaces and punctuation", "x" * 2001: "2001 characters: letters",
}


@pytest.mark.parametrize(("corruption", "rule"), RULE_CASES, ids=[c[1] + ":" + c[0][1] for c in RULE_CASES])
def test_each_rule_quarantines_its_row_with_a_reason(tmp_path, good_rows, codebook, resolver, corruption, rule):
    position, column, value = corruption
    good_rows.loc[position, column] = np.nan if value is None else value
    result = _validate(tmp_path, good_rows, codebook, resolver)

    assert result.rows_read == 20
    assert result.rows_loaded == 19 and result.rows_quarantined == 1
    entry = result.quarantine.iloc[0]
    assert entry["rule"] == rule
    assert entry["column_name"] == column
    assert entry["source_row"] == position + 2  # header is row 1, so data row 0 is row 2
    assert entry["source_file"] == FILE
    if value is None or not value.strip():
        assert entry["offending_value"] is None
    elif column == "comments":  # free text: described, never its words, even in the private quarantine
        assert entry["offending_value"] == "2001 characters: letters"
    else:
        assert entry["offending_value"] == value  # as delivered, for the private working database
    assert entry["reason"].startswith(f"{FILE} row {position + 2}, column {column}: ")
    described = "missing" if value is None or not value.strip() else DESCRIBED[value]
    assert entry["reason"].endswith(f"(rule {rule}; value: {described})")
    assert good_rows.loc[position, "respondent_id"] not in set(result.valid_rows()["respondent_id"].dropna())


def test_required_multiple_choice_needs_a_tick(tmp_path, good_rows, codebook, resolver):
    columns = codebook.for_wave(WAVE).question("trust_barriers").option_columns
    good_rows.loc[2, columns] = "0"
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.rows_quarantined == 1
    assert result.quarantine[["column_name", "rule", "offending_value", "source_row"]].values.tolist() == [
        ["trust_barriers", "at_least_one_option", "no option ticked", 4]
    ]


def test_optional_questions_may_be_skipped(tmp_path, good_rows, codebook, resolver):
    optional = [c for q in codebook.questions if not q.required for c in q.columns]
    good_rows.loc[1, optional] = np.nan
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.rows_quarantined == 0


def test_a_repeated_respondent_keeps_the_latest_submission(tmp_path, good_rows, codebook, resolver):
    # The sample is in submission order, so data row 15 (file row 17) is later than data row 4 (row 6).
    good_rows.loc[15, "respondent_id"] = good_rows.loc[4, "respondent_id"]
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.rows_quarantined == 1
    entry = result.quarantine.iloc[0]
    assert (entry["rule"], entry["source_row"], entry["kept_source_file"], entry["kept_source_row"]) == (
        "superseded", 6, FILE, 17)
    kept = result.valid_rows()[result.valid_rows()["respondent_id"] == good_rows.loc[4, "respondent_id"]]
    assert kept["source_row"].tolist() == [17]


def test_the_same_email_is_the_same_respondent_whatever_the_id(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[12, "email"] = good_rows.loc[2, "email"].upper()
    good_rows.loc[8, "submitted_at"] = "2030-01-01T00:00:00"  # row 8 (file row 10) is now the latest
    good_rows.loc[8, "email"] = good_rows.loc[3, "email"]
    good_rows.loc[[6, 7], "email"] = "anonymous"  # Forms' placeholder is nobody in particular
    result = _validate(tmp_path, good_rows, codebook, resolver)
    superseded = result.quarantine[result.quarantine["rule"] == "superseded"]
    assert superseded[["source_row", "kept_source_row"]].values.tolist() == [[4, 14], [5, 10]]
    # emails are compared, never written anywhere
    assert not result.quarantine["offending_value"].astype(str).str.contains("@").any()
    assert "email" not in result.valid_rows().columns


def test_an_email_the_codebook_calls_a_placeholder_matches_nobody(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[[3, 9], "email"] = "Board.Office@trust.example.org"  # a shared mailbox, two people
    assert _validate(tmp_path, good_rows, codebook, resolver).quarantine["rule"].tolist() == ["superseded"]
    shared = codebook.model_copy(update={"respondent": codebook.respondent.model_copy(
        update={"placeholder_emails": ("board.office@trust.example.org",)})})
    result = _validate(tmp_path, good_rows, shared, resolver)
    assert result.rows_quarantined == 0 and result.rows_loaded == 20


def test_a_row_breaking_several_rules_is_counted_once(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[0, ["trust_code", "role", "pc_approach_stage"]] = ["NOPE", "Boss", "Maybe"]
    good_rows.loc[19, "trust_barriers.other"] = "9"
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert len(result.quarantine) == 4
    assert sorted(result.quarantine["rule"]) == [
        "allowed_option_label", "allowed_option_label", "known_trust_code", "option_flag_0_or_1"]
    assert result.rows_quarantined == 2
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == 20
    assert result.files[0].rows_quarantined == 2 and result.files[0].rows_loaded == 18


def test_a_wave_of_several_files_is_checked_as_one(tmp_path, good_rows, codebook, resolver):
    first = write_csv(good_rows.head(10), tmp_path / "part1.csv")
    second_rows = good_rows.tail(10).copy()
    second_rows.iloc[0, second_rows.columns.get_loc("respondent_id")] = good_rows.iloc[0]["respondent_id"]
    second = write_csv(second_rows, tmp_path / "part2.csv")
    result = validate_wave([first, second], codebook, WAVE, resolver)
    assert [(f.name, f.rows_read, f.rows_quarantined) for f in result.files] == [
        ("part1.csv", 10, 1), ("part2.csv", 10, 0)]
    assert result.quarantine.iloc[0][["source_file", "source_row", "rule", "kept_source_file", "kept_source_row"]].tolist() == [
        "part1.csv", 2, "superseded", "part2.csv", 2]


@pytest.mark.parametrize(
    ("make_file", "reason"),
    [
        (lambda p, rows: p.write_bytes(b""), "the file is empty"),
        (lambda p, rows: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "binary"),
        # Eleven lines with bytes neither UTF-8 nor Windows-1252 defines: one more than a file may have.
        (lambda p, rows: p.write_bytes(rows.to_csv(index=False).encode() + b"\x81\x8d\x8f\x90,x\n" * 11),
         "lines hold bytes that are not UTF-8, the most a file may have) nor Windows-1252 text"),
        (lambda p, rows: write_csv(rows.drop(columns=["trust_impact_alignment"]), p),
         "required columns are missing: trust_impact_alignment"),
        (lambda p, rows: write_csv(rows.assign(favourite_colour="blue"), p), "match no question of the improvement-journey codebook: 'favourite_colour'"),
        (lambda p, rows: write_csv(rows.head(0), p), "no responses"),
        (lambda p, rows: p.write_text("a,b,c\n1,2,3\n"), "right survey"),
        (lambda p, rows: p.write_text(rows.to_csv(index=False).replace("respondent_id", "role", 1)),
         "2 columns map to role"),
    ],
    ids=["empty", "binary", "undecodable", "missing-column", "unknown-column", "header-only", "wrong-survey", "duplicate-column"],
)
def test_unusable_files_are_refused_whole_with_the_file_named(tmp_path, good_rows, codebook, resolver, make_file, reason):
    path = tmp_path / FILE
    make_file(path, good_rows)
    with pytest.raises(WaveFileRejected) as error:
        validate_wave([path], codebook, WAVE, resolver)
    assert str(path) in str(error.value)
    assert reason in str(error.value)


def test_free_text_at_exactly_its_limit_is_kept(tmp_path, good_rows, codebook, resolver):
    limit = codebook.question("comments").max_length
    good_rows.loc[0, "comments"] = "x" * limit
    good_rows.loc[1, "comments"] = "y" * (limit + 1)
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.quarantine["source_row"].tolist() == [3]


def test_rows_cut_short_or_too_long_are_quarantined_and_blank_lines_skipped(tmp_path, good_rows, codebook, resolver):
    lines = good_rows.to_csv(index=False, lineterminator="\n").splitlines()
    lines[3] = lines[3].rsplit(",", 5)[0]  # data row 3 (file row 4) loses its last five cells
    lines[6] = lines[6] + ",extra"  # file row 7 has one cell too many
    lines.insert(9, "")  # a blank line: file row 10, not a response
    path = tmp_path / FILE
    path.write_text("\n".join(lines) + "\n")
    result = validate_wave([path], codebook, WAVE, resolver)
    assert result.rows_read == 20
    assert result.rows_quarantined == 2 and result.rows_loaded == 18
    assert result.quarantine[["source_row", "rule", "column_name"]].values.tolist() == [
        [4, "field_count", "(whole row)"], [7, "field_count", "(whole row)"]]
    ncols = len(good_rows.columns)
    assert result.quarantine["offending_value"].tolist() == [f"{ncols - 5} cells; the header has {ncols}",
                                                             f"{ncols + 1} cells; the header has {ncols}"]
    # rows after the blank line keep the number a spreadsheet shows: data row 9 is file row 12
    assert result.valid_rows().loc[result.valid_rows()["respondent_id"] == good_rows.loc[9, "respondent_id"], "source_row"].item() == 12


def test_surrounding_spaces_are_ignored_and_offsets_are_accepted(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[0, "role"] = "  " + good_rows.loc[0, "role"] + " "
    good_rows.loc[1, "submitted_at"] = "2024-09-10T09:15:00+01:00"
    good_rows.loc[2, "submitted_at"] = "2024-09-10T09:15:00Z"
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.rows_quarantined == 0


def test_windows_1252_and_curly_quotes_are_read(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[0, "trust_impact_alignment"] = "Don\u2019t\u00a0know"  # curly apostrophe, no-break space
    good_rows.loc[1, "role"] = "NON-EXECUTIVE DIRECTOR"
    path = tmp_path / FILE
    path.write_bytes(good_rows.to_csv(index=False).encode("cp1252"))
    result = validate_wave([path], codebook, WAVE, resolver)
    assert result.rows_quarantined == 0
    assert result.valid_rows().loc[0, "trust_impact_alignment"] == "Don't know"  # the codebook's label
    assert result.valid_rows().loc[1, "role"] == "Non-executive director"


def test_trusts_given_by_name_or_old_code_are_mapped(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[0, "trust_code"] = "royal surrey nhs foundation trust"
    good_rows.loc[1, "trust_code"] = "RY9"  # merged into RAX
    good_rows.loc[2, "trust_code"] = "rdr"
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.rows_quarantined == 0
    assert result.valid_rows().loc[:2, ["trust_code", "trust_code_reported"]].values.tolist() == [
        ["RA2", "royal surrey nhs foundation trust"], ["RAX", "RY9"], ["RDR", "rdr"]]


def test_the_same_bytes_under_two_names_are_read_once(tmp_path, good_rows, codebook, resolver):
    first = write_csv(good_rows, tmp_path / "export.csv")
    second = tmp_path / "export (1).csv"
    second.write_bytes(first.read_bytes())
    result = validate_wave([first, second], codebook, WAVE, resolver)
    assert result.rows_loaded == 20 and result.rows_quarantined == 0  # not 20 superseded copies
    logged = {f.name: (f.rows_read, f.duplicate_of) for f in result.files}
    assert logged == {"export.csv": (20, None), "export (1).csv": (0, "export.csv")}


def test_a_quarantined_later_submission_does_not_displace_a_valid_earlier_one(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[15, "respondent_id"] = good_rows.loc[4, "respondent_id"]
    good_rows.loc[15, "role"] = "Not a role"  # the later submission cannot be loaded
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.quarantine[["source_row", "rule"]].values.tolist() == [[17, "allowed_option_label"]]
    assert good_rows.loc[4, "respondent_id"] in set(result.valid_rows()["respondent_id"])


def test_a_header_row_without_its_trailing_empty_cells_is_read(tmp_path, good_rows, codebook, resolver):
    from tests.exports import BUILDERS

    wave = codebook.for_wave(WAVE)
    wave = wave.model_copy(update={"questions": tuple(q for q in wave.questions if q.id != "comments")})
    export = BUILDERS["surveymonkey"][0](good_rows.drop(columns=["comments"]), wave, tmp_path / "monkey.csv")
    first, rest = export.read_text().split("\n", 1)
    assert first.endswith(",")  # the last question is multiple choice: row 1 ends in empty cells
    export.write_text(first.rstrip(",") + "\n" + rest)  # as a spreadsheet re-saving the file leaves it
    assert validate_wave([export], codebook, WAVE, resolver).rows_loaded == 20


def test_utf8_with_a_byte_order_mark_is_read(tmp_path, good_rows, codebook, resolver):
    path = tmp_path / FILE
    path.write_bytes(good_rows.to_csv(index=False).encode("utf-8-sig"))  # Excel's "CSV UTF-8"
    assert validate_wave([path], codebook, WAVE, resolver).rows_loaded == 20


def test_the_text_dtype_checks_columns_at_once_and_still_names_a_cell_that_is_not_text():
    import pandas as pd
    import pandera.pandas as pa

    from schemas.response_schema import TEXT

    schema = pa.DataFrameSchema({"q": pa.Column(TEXT, nullable=True)})
    schema.validate(pd.DataFrame({"q": pd.Series(["Agree", None, "Disagree"], dtype=object)}))
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        schema.validate(pd.DataFrame({"q": pd.Series(["Agree", 3, None, 4.5], dtype=object)}), lazy=True)
    failures = caught.value.failure_cases
    assert failures["index"].tolist() == [1, 3] and failures["failure_case"].tolist() == [3, 4.5]


@pytest.mark.parametrize(("value", "described"), [
    ("Margaret Okonkwo-Hale", "21 characters: letters, spaces and punctuation"),
    ("m.okonkwo-hale@example.nhs.uk", "29 characters: letters and punctuation"),
    ("+44 7700 900461", "15 characters: digits, spaces and symbols"),
    ("![x](http://198.51.100.7/p.png)", "31 characters: letters, digits and punctuation"),
    ("Zoë\u200b", "4 characters: letters and invisible or control characters"),  # a zero-width space
    ("7", "1 character: digits"),
    (None, "missing"),
    (float("nan"), "missing"),
])
def test_a_refused_value_is_described_by_its_length_and_kinds_of_character(value, described):
    from validation.quarantine import describe_value

    assert describe_value(value) == described


def test_a_reason_names_file_row_column_and_rule_and_copies_no_value(tmp_path, good_rows, codebook, resolver):
    good_rows.loc[2, "trust_code"] = "![x](http://198.51.100.7/p.png)"
    good_rows.loc[4, "role"] = "jo.bloggs@example.org"
    good_rows.loc[9, "respondent_id"] = good_rows.loc[12, "respondent_id"]  # submitted again: row 14 is kept
    result = _validate(tmp_path, good_rows, codebook, resolver)
    assert result.quarantine["reason"].tolist() == [
        "wave.csv row 4, column trust_code: must be the ODS code of a trust in the reference list "
        "(rule known_trust_code; value: 31 characters: letters, digits and punctuation)",
        "wave.csv row 6, column role: must be one of the question's option labels "
        "(rule allowed_option_label; value: 21 characters: letters and punctuation)",
        "wave.csv row 11, column respondent_id: the same respondent submitted again later; the later submission "
        "is kept (rule superseded; value: same respondent id as wave.csv row 14)",
    ]
    # The private quarantine keeps the value as delivered, for the engineer.
    assert result.quarantine["offending_value"].tolist()[:2] == ["![x](http://198.51.100.7/p.png)", "jo.bloggs@example.org"]
