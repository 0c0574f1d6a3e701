"""Builders of survey-tool exports from a wave in the plain layout, with each tool's real header rows and
conventions, for tests that check every layout loads to the same warehouse rows as the plain CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pandas as pd

from schemas.codebook import Codebook

QUALTRICS_METADATA = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
                      "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                      "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage"]
SURVEYMONKEY_METADATA = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
                         "First Name", "Last Name", "Custom Data 1"]


def _cell(value):
    return None if value is None or value != value else value


def _ticked(row: pd.Series, question) -> list[str] | None:
    flags = [row[c] for c in question.option_columns]
    if all(f is None or f != f for f in flags):
        return None
    return [o.label for o, f in zip(question.options, flags) if f == "1"]


def _submitted(row: pd.Series) -> dt.datetime:
    return dt.datetime.fromisoformat(row["submitted_at"])


def _first_last(row: pd.Series) -> tuple[str, str]:
    first, _, last = str(row.get("name") or "").partition(" ")  # a survey may not ask for a name
    return first, last


def microsoft_forms(wave: pd.DataFrame, codebook: Codebook, path: Path) -> Path:
    from openpyxl import Workbook

    r = codebook.respondent
    header = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
              r.trust.wording, *(f.wording for f in r.fields)] + [q.wording for q in codebook.questions]
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for _, row in wave.iterrows():
        answers = []
        for q in codebook.questions:
            if q.type == "multiple":
                ticked = _ticked(row, q)
                answers.append(None if ticked is None else "".join(f"{label};" for label in ticked))
            elif q.type == "numeric" and _cell(row[q.id]) is not None:
                answers.append(float(row[q.id]))  # a number cell, as Forms writes a number question's answer
            else:
                answers.append(_cell(row[q.id]))
        done = _submitted(row)
        sheet.append([row["respondent_id"], done - dt.timedelta(minutes=9), done, row["email"], row.get("name"), None,
                      row["trust_code"], *(row[f.column] for f in r.fields), *answers])
    book.save(path)
    return path


def surveymonkey(wave: pd.DataFrame, codebook: Codebook, path: Path) -> Path:
    r = codebook.respondent
    top = list(SURVEYMONKEY_METADATA) + [r.trust.wording, *(f.wording for f in r.fields)]
    sub = [""] * len(SURVEYMONKEY_METADATA) + ["Response"] * (1 + len(r.fields))
    stem = None
    for q in codebook.questions:
        if q.grid_stem is not None:  # the stem once, above its items
            top.append(q.grid_stem if q.grid_stem != stem else "")
            sub.append(q.wording)
        elif q.type == "multiple":
            top += [q.wording] + [""] * (len(q.options) - 1)
            sub += [o.label for o in q.options]
        else:
            top.append(q.wording)
            sub.append("Open-Ended Response" if q.type == "text" else "Response")
        stem = q.grid_stem
    rows = [top, sub]
    for n, (_, row) in enumerate(wave.iterrows()):
        done = _submitted(row)
        first, last = _first_last(row)
        cells = [row["respondent_id"], "431234567", (done - dt.timedelta(minutes=7)).strftime("%m/%d/%Y %I:%M:%S %p"),
                 done.strftime("%m/%d/%Y %I:%M:%S %p"), f"10.0.{n // 250}.{n % 250}", row["email"], first, last, "",
                 row["trust_code"], *(row[f.column] for f in r.fields)]
        for q in codebook.questions:
            if q.type == "multiple":
                ticked = _ticked(row, q) or []
                cells += [o.label if o.label in ticked else "" for o in q.options]
            else:
                cells.append(_cell(row[q.id]) or "")
        rows.append(cells)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def surveymonkey_xlsx(wave: pd.DataFrame, codebook: Codebook, path: Path) -> Path:
    """SurveyMonkey's Excel download: the same two header rows and cells as its CSV."""
    from openpyxl import Workbook

    text_export = surveymonkey(wave, codebook, path.with_suffix(".csv"))
    with open(text_export, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    text_export.unlink()
    book = Workbook()
    for row in rows:
        book.active.append([cell if cell != "" else None for cell in row])
    book.save(path)
    return path


def _qualtrics_columns(codebook: Codebook):
    """(field id, wording, import id, how to get the cell from a plain row) for every answer column."""
    r = codebook.respondent
    columns = [("QID1", r.trust.wording, "QID1", lambda row: row["trust_code"])]
    columns += [(f"QID{n}", f.wording, f"QID{n}", lambda row, c=f.column: row[c]) for n, f in enumerate(r.fields, start=2)]
    for n, q in enumerate(codebook.questions, start=2 + len(r.fields)):
        if q.type == "multiple":
            for m, o in enumerate(q.options, start=1):
                columns.append((f"Q{n}_{m}", f"{q.wording} - {o.label}", f"QID{n}_{m}",
                                lambda row, c=q.option_column(o.id), label=o.label: label if row[c] == "1" else ""))
        else:
            wording = q.wording if q.grid_stem is None else f"{q.grid_stem} - {q.wording}"
            columns.append((f"Q{n}", wording, f"QID{n}", lambda row, c=q.id: _cell(row[c]) or ""))
    return columns


def qualtrics(wave: pd.DataFrame, codebook: Codebook, path: Path) -> Path:
    answers = _qualtrics_columns(codebook)
    ids = QUALTRICS_METADATA + [a[0] for a in answers]
    wording = QUALTRICS_METADATA + [a[1] for a in answers]
    imports = [json.dumps({"ImportId": m.lower()}) for m in QUALTRICS_METADATA]
    imports += [json.dumps({"ImportId": a[2]}) for a in answers]
    rows = [ids, wording, imports]
    for n, (_, row) in enumerate(wave.iterrows()):
        done = _submitted(row)
        first, last = _first_last(row)
        meta = [str(done - dt.timedelta(minutes=8)), str(done), "IP Address", f"192.0.2.{n % 250}", "100", "480", "1",
                str(done), row["respondent_id"], last, first, row["email"], "", "51.5", "-0.1", "email", "EN"]
        rows.append(meta + [get(row) for _, _, _, get in answers])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def spss(wave: pd.DataFrame, codebook: Codebook, path: Path, mr_sets: bool = False) -> Path:
    """An SPSS file as survey tools write it: value labels for single choice, and for each option of a
    multiple-choice question a 0/1 variable labelled "<wording> - <option>" or, with ``mr_sets``, labelled
    by the option and grouped in a multiple-response (dichotomy) set labelled by the wording."""
    import pyreadstat

    r = codebook.respondent
    data = {"ResponseId": wave["respondent_id"], "RecordedDate": pd.to_datetime(wave["submitted_at"]),
            "Finished": 1.0, "RecipientEmail": wave["email"], "Q1": wave["trust_code"]}
    labels = {"ResponseId": "Response ID", "RecordedDate": "Recorded Date", "Finished": "Finished",
              "RecipientEmail": "Recipient Email", "Q1": r.trust.wording}
    value_labels = {}

    def coded(name: str, wording: str, options, values: pd.Series) -> None:
        codes = {o.label: float(n) for n, o in enumerate(options, start=1)}
        data[name] = values.map(lambda v: codes.get(v) if v == v else None).astype(float)
        labels[name] = wording
        value_labels[name] = {code: label for label, code in codes.items()}

    sets = []
    for n, f in enumerate(r.fields, start=2):
        coded(f"Q{n}", f.wording, f.options, wave[f.column])
    for n, q in enumerate(codebook.questions, start=2 + len(r.fields)):
        if q.answer_kind == "single":  # single choice and scales: coded, with value labels
            coded(f"Q{n}", q.wording, q.options, wave[q.id])
        elif q.type == "numeric":
            data[f"Q{n}"] = pd.to_numeric(wave[q.id]).astype(float)  # a numeric variable, no value labels
            labels[f"Q{n}"] = q.wording
        elif q.type == "text":
            data[f"Q{n}"] = wave[q.id].fillna("")
            labels[f"Q{n}"] = q.wording
        else:
            for m, o in enumerate(q.options, start=1):
                name = f"Q{n}_{m}"
                data[name] = pd.to_numeric(wave[q.option_column(o.id)]).astype(float)
                labels[name] = o.label if mr_sets else f"{q.wording} - {o.label}"
                value_labels[name] = {0.0: "Not selected", 1.0: "Selected"}
            if mr_sets:
                sets.append((f"q{n}", q.wording, [f"Q{n}_{m}" for m in range(1, len(q.options) + 1)]))
    frame = pd.DataFrame(data)
    pyreadstat.write_sav(frame, str(path), column_labels=[labels[c] for c in frame.columns],
                         variable_value_labels=value_labels)
    if sets:
        _add_mr_sets(path, sets)
    return path


def _add_mr_sets(path: Path, sets: list[tuple[str, str, list[str]]]) -> None:
    """pyreadstat cannot write multiple-response sets: add the record (type 7, subtype 7) by hand, before
    the dictionary's end (type 999), as SPSS itself stores it."""
    import struct

    lines = "".join(f"${name}=D1 1 {len(label.encode())} {label} {' '.join(variables)}\n"
                    for name, label, variables in sets).encode()
    data = path.read_bytes()
    end_of_dictionary = data.find(struct.pack("<ii", 999, 0))
    record = struct.pack("<iiii", 7, 7, 1, len(lines)) + lines
    path.write_bytes(data[:end_of_dictionary] + record + data[end_of_dictionary:])


def spss_mr_sets(wave: pd.DataFrame, codebook: Codebook, path: Path) -> Path:
    return spss(wave, codebook, path, mr_sets=True)


BUILDERS = {"microsoft_forms": (microsoft_forms, ".xlsx"), "surveymonkey": (surveymonkey, ".csv"),
            "surveymonkey_xlsx": (surveymonkey_xlsx, ".xlsx"),
            "qualtrics": (qualtrics, ".csv"), "spss": (spss, ".sav"), "spss_mr_sets": (spss_mr_sets, ".sav")}


def with_shared_strings(path: Path, count: int, declared: bool = True) -> Path:
    """The workbook at ``path`` given a shared-strings part of ``count`` strings, wired in as Excel wires it
    (relationship and content type), so that a reader opening the workbook reads them all first: the shape
    of a small file that unpacks to millions of strings (identical here, so that the file stays small)."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    counts = f' count="{count}" uniqueCount="{count}"'.encode() if declared else b""
    parts["xl/sharedStrings.xml"] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                     b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' + counts
                                     + b">" + b"<si><t>x</t></si>" * count + b"</sst>")
    rels = parts["xl/_rels/workbook.xml.rels"]
    if b"/sharedStrings" not in rels:
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(b"</Relationships>", (
            b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            b'Target="sharedStrings.xml" Id="rIdStrings" /></Relationships>'))
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path
