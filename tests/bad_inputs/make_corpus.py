"""Writes the corpus of bad inputs in this folder from the first 30 rows of the bundled 2024 sample.

Run ``python -m tests.bad_inputs.make_corpus`` to rebuild it; the expected outcome of each file is typed
by hand in ``cases.yaml`` (not produced by the pipeline), and ``tests/test_bad_inputs.py`` checks them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd

from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from tests.conftest import read_sample, sample_wave_path
from tests.exports import BUILDERS, with_shared_strings

HERE = Path(__file__).parent
WAVE = "2024"


def rows():
    return read_sample(WAVE).head(30).copy()


def plain(frame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()


def main() -> None:
    codebook = load_codebook(BUNDLED_CODEBOOKS_DIR / "improvement-journey.yaml").for_wave(WAVE)
    files: dict[str, bytes] = {}

    def changed(**cells):
        frame = rows()
        for spec, value in cells.items():
            row, column = spec.split("__")
            frame.loc[int(row.lstrip("r")), column.replace("_DOT_", ".")] = value
        return plain(frame)

    files["unknown_option_label.csv"] = changed(r4__trust_approach_stage="We are nearly there")
    files["missing_required_answer.csv"] = changed(r5__trust_impact_alignment=np.nan)
    files["unknown_trust_code.csv"] = changed(r6__trust_code="ZZZ99")
    files["merged_trust_old_code.csv"] = changed(r7__trust_code="RY9")
    files["trust_given_by_name.csv"] = changed(r8__trust_code="Royal Surrey NHS Foundation Trust")
    files["free_text_too_long.csv"] = changed(r9__comments="Too long. " * 201)
    files["timestamp_unparseable.csv"] = changed(r10__submitted_at="31/02/2024 25:61")
    files["no_option_ticked.csv"] = plain(rows().assign(**{c: lambda f, c=c: np.where(f.index == 11, "0", f[c])
                                                           for c in codebook.question("trust_barriers").option_columns}))
    files["option_flag_not_0_or_1.csv"] = changed(r12__trust_barriers_DOT_funding="yes")
    duplicated = rows()
    duplicated.loc[20, "respondent_id"] = duplicated.loc[2, "respondent_id"]
    files["respondent_submitted_twice.csv"] = plain(duplicated)
    placeholders = rows()
    for row, email in {1: "n/a", 2: "N/A", 4: "none", 5: "-", 7: "noreply@trust.nhs.uk", 9: "NoReply@other.nhs.uk",
                       10: "not given", 12: "unknown", 13: "test@trust.nhs.uk", 14: "Test@Trust.NHS.uk",
                       16: "no email", 17: "@trust.nhs.uk", 18: "someone@localhost",
                       20: "Same.Person@trust.nhs.uk ", 25: " same.person@TRUST.nhs.uk"}.items():
        placeholders.loc[row, "email"] = email
    files["placeholder_emails.csv"] = plain(placeholders)
    mostly_refused = rows()
    mostly_refused.loc[0:19, "trust_code"] = "XYZ01"  # 20 of 30 rows: a file of another organisation's survey
    files["mostly_quarantined.csv"] = plain(mostly_refused)
    last_year = rows()
    last_year.loc[[3, 8, 13, 18, 23], "submitted_at"] = "2023-09-12T10:15:00"  # a year before the fieldwork
    files["times_outside_fieldwork.csv"] = plain(last_year)
    # Wave 2023's export, byte for byte, landed as wave 2024 (the warehouse holds 2023 already).
    files["another_waves_export.csv"] = sample_wave_path("2023").read_bytes()
    text = plain(rows()).decode()
    files["download_cut_short.csv"] = text[: text.rstrip("\n").rfind(",", 0, len(text) - 200)].encode()
    files["windows_1252_curly_quotes.csv"] = plain(rows().assign(
        trust_impact_alignment=lambda f: f["trust_impact_alignment"].str.replace("Don't", "Don\u2019t"))).decode().encode("cp1252")

    # Encodings and delimiters (exports.text, exports.grid): decided on the file's evidence.
    commented = rows().assign(comments="Café culture: naïve hopes, élan")
    commented.loc[5, "comments"] = "NOT-UTF8"
    files["utf8_one_invalid_byte.csv"] = plain(commented).replace(b"NOT-UTF8", b"Caf\xe9")  # é as Windows-1252
    files["windows_1252_accents_in_every_row.csv"] = plain(rows().assign(comments="Café culture")).decode().encode("cp1252")
    undefined = rows()
    undefined.loc[0:10, "comments"] = "UNDEFINED"  # eleven rows: one more than a UTF-8 file may have
    files["not_utf8_nor_windows_1252.csv"] = plain(undefined).replace(b"UNDEFINED", b"\x81\x8d\x8f")
    files["utf16_with_bom.csv"] = plain(rows()).decode().encode("utf-16")
    files["semicolon_delimited.csv"] = rows().to_csv(index=False, sep=";", lineterminator="\r\n").encode()
    files["tab_delimited.csv"] = rows().to_csv(index=False, sep="\t", lineterminator="\n").encode()
    long_comment = rows()
    long_comment.loc[10, "comments"] = "a long comment " * 10_000  # 150,000 characters: over csv's field limit
    files["comment_over_csv_field_limit.csv"] = plain(long_comment)
    serial = rows()
    times = pd.to_datetime(serial["submitted_at"], utc=True, format="ISO8601")
    serial["submitted_at"] = ((times - pd.Timestamp("1899-12-30", tz="UTC")) / pd.Timedelta(days=1)).round(6).astype(str)
    files["excel_serial_dates.csv"] = plain(serial)

    # What spreadsheets and people do to a CSV on its way: each still loads, or loses only its own row.
    lower = rows()
    lower.loc[3, "trust_code"] = lower.loc[3, "trust_code"].lower()
    files["trust_code_in_lower_case.csv"] = plain(lower)
    files["option_labels_in_capitals.csv"] = plain(rows().assign(trust_approach_stage=lambda f: f["trust_approach_stage"].str.upper()))
    twice = rows()
    twice.loc[7, ["respondent_id", "email", "submitted_at"]] = twice.loc[2, ["respondent_id", "email", "submitted_at"]].values
    files["submitted_twice_at_the_same_time.csv"] = plain(twice)  # a tie: the later row of the file is kept
    multiline = rows()
    multiline.loc[4, "comments"] = "line one\nline two"
    multiline.loc[9, "trust_approach_stage"] = "Nonsense"
    files["comment_over_two_lines.csv"] = plain(multiline)  # a record is a row, however many lines it spans
    lines = plain(rows().assign(trust_approach_stage=lambda f: f["trust_approach_stage"].mask(f.index == 9, "Nonsense"))).decode().split("\n")
    lines.insert(5, "")
    files["blank_line_before_a_bad_row.csv"] = "\n".join(lines).encode()  # the blank line keeps its number
    files["windows_line_endings.csv"] = plain(rows()).replace(b"\n", b"\r\n")
    files["utf8_with_bom.csv"] = b"\xef\xbb\xbf" + plain(rows())
    lines = plain(rows()).decode().split("\n")
    lines[0] = ",".join(f" {heading.upper()} " for heading in lines[0].split(","))
    files["headings_in_capitals_with_spaces.csv"] = "\n".join(lines).encode()
    injected = rows()
    injected.loc[6, "comments"] = '=HYPERLINK("http://example.com","click")'
    injected.loc[8, "comments"] = "<script>alert(1)</script>"
    files["formula_and_html_in_comments.csv"] = plain(injected)  # stored as text; the pack makes it safe
    lines = plain(rows()).decode().split("\n")
    lines[10] += ",an extra cell"
    files["row_with_an_extra_cell.csv"] = "\n".join(lines).encode()
    files["blank_lines_at_the_end.csv"] = plain(rows()) + b"\n\n\n,,,\n"
    trailing = plain(rows().assign(**{"": "", " ": ""}))
    files["empty_columns_without_headings.csv"] = trailing  # as a spreadsheet saving a CSV leaves them
    unheaded = rows().assign(**{"": ""})
    unheaded.loc[[3, 4], ""] = "a value"
    files["values_in_a_column_without_heading.csv"] = plain(unheaded)
    offsets = rows()
    offsets["submitted_at"] = pd.to_datetime(offsets["submitted_at"], utc=True, format="ISO8601").dt.tz_convert(
        "Europe/London").dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    files["times_with_london_offsets.csv"] = plain(offsets)
    flag = rows()
    flag.loc[5, "trust_barriers.funding"] = "TRUE"
    files["option_flag_written_true.csv"] = plain(flag)
    no_role = rows()
    no_role.loc[11, "role"] = ""
    files["role_left_blank.csv"] = plain(no_role)
    lines = plain(rows()).decode().split("\n")
    files["a_column_twice.csv"] = "\n".join([lines[0] + ",role", *(f"{line},Chair" for line in lines[1:-1]), ""]).encode()
    files["sign_in_page_saved_as_csv.csv"] = (b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
                                              b"<body>Please sign in to download your results</body></html>\n")
    files["header_then_blank_lines.csv"] = plain(rows().head(0)) + b"\n\n\n"
    files["text_saved_as_xlsx.xlsx"] = plain(rows())  # a CSV renamed: not a workbook

    files["empty.csv"] = b""
    files["binary_image.csv"] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    files["wrong_encoding.csv"] = plain(rows()) + b"\x81\x8d\x8f\x90\x9d\n"
    files["wrong_survey.csv"] = b"Respondent,Ward,Overall experience\n1,A,Good\n2,B,Poor\n"
    files["required_question_missing.csv"] = plain(rows().drop(columns=["trust_approach_stage"]))
    files["header_only.csv"] = plain(rows().head(0))
    files["unknown_column.csv"] = plain(rows().assign(favourite_colour="blue"))
    files["oversize.csv"] = plain(rows())

    for name, data in files.items():
        (HERE / name).write_bytes(data)

    def export(layout: str, name: str, frame=None):
        build, suffix = BUILDERS[layout]
        return build(rows() if frame is None else frame, codebook, HERE / f"{name}{suffix}")

    forms = export("microsoft_forms", "forms_unknown_label_and_unfinished")
    _edit_xlsx(forms, codebook)
    qualtrics = export("qualtrics", "qualtrics_unfinished_response")
    _set_csv_cell(qualtrics, row=7, column="Finished", value="0")
    monkey = rows()
    monkey.loc[15, "email"] = monkey.loc[3, "email"]
    export("surveymonkey", "surveymonkey_same_email_twice", monkey)
    two = export("microsoft_forms", "forms_two_columns_one_question")
    _duplicate_xlsx_column(two, codebook)
    _add_cover_sheet(export("microsoft_forms", "forms_responses_on_sheet_2"))
    macros = export("microsoft_forms", "forms_macro_enabled")
    macros.rename(macros.with_suffix(".xlsm"))
    _set_xlsx_cell(export("microsoft_forms", "forms_formula_without_value"), codebook, row=8,
                   heading=codebook.question("trust_approach_stage").wording, value="=H2")  # openpyxl saves no value
    _completion_times_as_serials(export("microsoft_forms", "forms_excel_serial_dates"))
    with_shared_strings(export("microsoft_forms", "workbook_too_many_shared_strings"), 2_000_001)
    workbook = export("microsoft_forms", "workbook_saved_as_csv")
    files_after = {"workbook_saved_as_csv.csv": workbook.read_bytes()}  # a workbook renamed: binary, not text
    workbook.unlink()
    for name, data in files_after.items():
        (HERE / name).write_bytes(data)
    good_xlsx = export("microsoft_forms", "truncated_workbook")
    good_xlsx.write_bytes(good_xlsx.read_bytes()[:1500])
    good_sav = export("spss", "truncated_spss")
    good_sav.write_bytes(good_sav.read_bytes()[:700])


def _edit_xlsx(path: Path, codebook) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.active
    column = [c.value for c in sheet[1]].index(codebook.question("trust_barriers").wording) + 1
    sheet.cell(row=6, column=column).value = "Operational pressures;Bad weather;"
    sheet.cell(row=9, column=3).value = None  # no completion time
    book.save(path)


def _duplicate_xlsx_column(path: Path, codebook) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.active
    heading = codebook.question("trust_approach_stage").wording
    column = [c.value for c in sheet[1]].index(heading) + 1
    last = sheet.max_column + 1
    for row in range(1, sheet.max_row + 1):
        sheet.cell(row=row, column=last).value = sheet.cell(row=row, column=column).value
    sheet.cell(row=1, column=last).value = "  " + heading.upper().replace("'", "\u2019") + " "
    book.save(path)


def _add_cover_sheet(path: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    cover = book.create_sheet("Read me", 0)
    cover.append(["Board survey export"])
    cover.append(["Responses are on the next sheet."])
    book.save(path)


def _set_xlsx_cell(path: Path, codebook, row: int, heading: str, value) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.active
    sheet.cell(row=row, column=[c.value for c in sheet[1]].index(heading) + 1).value = value
    book.save(path)


def _completion_times_as_serials(path: Path) -> None:
    """The completion times as Excel's day numbers, formatted General (a sheet saved without date formats)."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.active
    column = [c.value for c in sheet[1]].index("Completion time") + 1
    epoch = dt.datetime(1899, 12, 30)
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row=row, column=column)
        cell.value = round((cell.value - epoch) / dt.timedelta(days=1), 6)
        cell.number_format = "General"
    book.save(path)


def _set_csv_cell(path: Path, row: int, column: str, value: str) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        grid = list(csv.reader(handle))
    grid[row - 1][grid[0].index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows(grid)
    path.write_text(buffer.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
