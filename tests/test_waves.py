"""Waves declared beside their files (wave.yaml) as well as in the codebook: merged, ordered by fieldwork,
refused clearly when they disagree; questions and options limited to waves; errors that say the right fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from exports import WaveFileRejected, read_export
from home.landing import wave_declarations
from home.settings import SurveyHome
from schemas.codebook import WaveNotDeclared
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, CodebookError, load_codebook
from schemas.waves import DeclaredWave, WaveDeclarationError, WaveSettings
from tests.conftest import SURVEY_ID, read_sample, write_csv

BUNDLED = BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml"


def _declare(home: Path, wave_id: str, text: str) -> Path:
    path = home / "landing" / SURVEY_ID / wave_id / "wave.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_wave_declared_beside_its_files_joins_the_codebooks_waves_in_fieldwork_order(tmp_path):
    _declare(tmp_path, "2026", "fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\npopulation_trusts: 203\n")
    _declare(tmp_path, "pilot", "fieldwork_start: 2022-03-01\nfieldwork_end: 2022-03-31\n")
    codebook = SurveyHome(tmp_path).codebook(SURVEY_ID)
    assert [w.id for w in codebook.waves] == ["pilot", "2023", "2024", "2025", "2026"]
    wave = codebook.wave("2026")
    assert (wave.fieldwork_start, wave.fieldwork_end, wave.population_trusts, wave.synthetic) == (
        dt.date(2026, 9, 1), dt.date(2026, 9, 30), 203, False)
    assert codebook.wave("pilot").population_trusts is None  # optional
    assert codebook.declares_itself("2024") and not codebook.declares_itself("2026")


def test_the_bundled_questionnaire_carries_forward_to_a_wave_declared_later(tmp_path):
    """A 2026 export of the 2025 questionnaire: "Financial pressures" (asked from 2025 on) and the 2025
    rewording are the 2026 questionnaire too, with no edit of the codebook."""
    _declare(tmp_path, "2026", "fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\n")
    codebook = SurveyHome(tmp_path).codebook(SURVEY_ID)
    options = {w: [o.id for o in codebook.for_wave(w).question("trust_barriers").options] for w in ("2024", "2026")}
    assert "financial_pressures" in options["2026"] and "financial_pressures" not in options["2024"]
    support = codebook.question("trust_support_needs")
    assert codebook.wording_in(support, "2026") == (
        "Where would your trust most value national support for improvement? (select all that apply)")
    assert "trust_barriers" in codebook.comparable_questions("2025", "2026")
    export = write_csv(read_sample("2025"), tmp_path / "export_2026.csv")
    assert read_export(export, codebook.for_wave("2026")).rows_read == len(read_sample("2025"))


def test_both_may_declare_a_wave_but_must_agree(tmp_path):
    _declare(tmp_path, "2024", "fieldwork_start: 2024-09-02\nfieldwork_end: 2024-09-27\nlayout: plain_csv\n")
    assert SurveyHome(tmp_path).codebook(SURVEY_ID).wave("2024").population_trusts == 209  # agrees: fine
    path = _declare(tmp_path, "2024", "fieldwork_end: 2024-09-30\n")
    with pytest.raises(WaveDeclarationError) as error:
        SurveyHome(tmp_path).codebook(SURVEY_ID)
    message = str(error.value)
    assert str(BUNDLED) in message and str(path) in message
    assert "fieldwork_end (2024-09-27 in the codebook, 2024-09-30 in wave.yaml)" in message


@pytest.mark.parametrize(("text", "expected"), [
    ("fieldwork_start: 2026-09-01\n", "lacks fieldwork_end"),
    ("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-08-01\n", "ends before it starts"),
    ("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\npopulation_trust: 200\n", "population_trust"),
    ("fieldwork_start: 1 September\nfieldwork_end: 2026-09-30\n", "fieldwork_start"),
    ("- a list\n", "must be a mapping"),
    ("fieldwork_start: [2026\n", "not valid YAML at line 2, column 1: expected ',' or ']'"),
    # the second colon follows 27 characters
    ("fieldwork_start: 2026-09-01: x\n", "not valid YAML at line 1, column 28: mapping values are not allowed here"),
])
def test_a_faulty_wave_yaml_is_refused_naming_the_file_and_field(tmp_path, text, expected):
    path = _declare(tmp_path, "2026", text)
    with pytest.raises(WaveDeclarationError) as error:
        SurveyHome(tmp_path).codebook(SURVEY_ID)
    assert str(path) in str(error.value) and expected in str(error.value)
    assert "\n" not in str(error.value)  # one line, as the run's failure shows it


def test_a_layout_only_wave_yaml_declares_nothing_and_the_error_says_both_ways(tmp_path):
    _declare(tmp_path, "2026", "layout: qualtrics\n")
    codebook = SurveyHome(tmp_path).codebook(SURVEY_ID)
    with pytest.raises(WaveNotDeclared) as error:
        codebook.wave("2026")
    message = str(error.value)
    assert message.startswith("wave '2026' is not declared for survey improvement-journey")
    assert f"landing/{SURVEY_ID}/2026/wave.yaml with fieldwork_start and fieldwork_end" in message
    assert f"survey ingest FILE --survey {SURVEY_ID} --wave 2026 --fieldwork-start" in message
    assert "`waves:` list of the survey's codebook" in message


def _codebook_with(tmp_path: Path, change, declared=()) -> Path:
    raw = yaml.safe_load(BUNDLED.read_text())
    change(raw)
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_asked_in_and_rewordings_may_name_waves_declared_in_a_wave_yaml(tmp_path):
    def change(raw):
        raw["questions"][0]["asked_in"] = ["2025", "2026"]
        raw["questions"][1]["rewordings"] = [{"wave": "2026", "wording": "How aligned is it now?"}]
    path = _codebook_with(tmp_path, change)
    with pytest.raises(CodebookError, match=r"names waves that are not declared: \['2026'\]"):
        load_codebook(path)
    declared = DeclaredWave("2026", WaveSettings(fieldwork_start="2026-09-01", fieldwork_end="2026-09-30"), "w.yaml")
    codebook = load_codebook(path, [declared])
    assert [q.id for q in codebook.for_wave("2026").questions][:1] == ["trust_approach_stage"]
    assert "trust_approach_stage" not in [q.id for q in codebook.for_wave("2024").questions]
    assert codebook.wording_in(codebook.question("trust_impact_alignment"), "2026") == "How aligned is it now?"
    assert codebook.wording_in(codebook.question("trust_impact_alignment"), "2025") != "How aligned is it now?"


def test_asked_from_is_open_ended_by_fieldwork_start_and_excludes_asked_in(tmp_path):
    path = _codebook_with(tmp_path, lambda raw: raw["questions"][5].update(asked_from="2024"))
    pilot = DeclaredWave("pilot", WaveSettings(fieldwork_start="2022-01-10", fieldwork_end="2022-01-20"), "p.yaml")
    later = DeclaredWave("2030", WaveSettings(fieldwork_start="2030-09-01", fieldwork_end="2030-09-30"), "l.yaml")
    codebook = load_codebook(path, [pilot, later])
    asked = {w.id: "pc_approach_stage" in {q.id for q in codebook.for_wave(w.id).questions} for w in codebook.waves}
    assert asked == {"pilot": False, "2023": False, "2024": True, "2025": True, "2030": True}
    both = _codebook_with(tmp_path, lambda raw: raw["questions"][5].update(asked_from="2024", asked_in=["2024"]))
    with pytest.raises(CodebookError, match="both asked_in and asked_from"):
        load_codebook(both)


def test_a_column_asked_only_in_other_waves_is_explained_with_the_wave(tmp_path, codebook):
    """The 2025 questionnaire delivered as 2024: the error names the option and its waves, not aliases."""
    export = write_csv(read_sample("2025"), tmp_path / "export.csv")
    with pytest.raises(WaveFileRejected) as error:
        read_export(export, codebook.for_wave("2024"))
    assert error.value.reason == (
        "column 'trust_barriers.financial_pressures': it is option 'Financial pressures' of trust_barriers, "
        "which the codebook offers from wave 2025 on (asked_from), not in wave 2024: if this wave offered it, "
        "add the wave to the option's asked_in or asked_from")
    assert "aliases" not in error.value.reason


def test_a_heading_that_matches_nothing_is_shown_with_the_nearest_headings(tmp_path, codebook):
    export = write_csv(read_sample("2024").rename(columns={"trust_approach_stage": "trust_aproach_stage"}),
                       tmp_path / "export.csv")
    with pytest.raises(WaveFileRejected) as error:
        read_export(export, codebook.for_wave("2024"))
    assert "'trust_aproach_stage' (nearest: 'trust_approach_stage'" in error.value.reason


def test_an_option_label_of_a_tool_export_not_offered_in_the_wave_is_explained(tmp_path, codebook):
    from tests.exports import surveymonkey

    export = surveymonkey(read_sample("2025"), codebook.for_wave("2025"), tmp_path / "monkey.csv")
    with pytest.raises(WaveFileRejected) as error:
        read_export(export, codebook.for_wave("2024"), layout="surveymonkey")
    assert "'Financial pressures' is not offered in this wave: it is option 'Financial pressures' of " \
           "trust_barriers, which the codebook offers from wave 2025 on" in error.value.reason
    typo = surveymonkey(read_sample("2024"), codebook.for_wave("2024"), tmp_path / "typo.csv")
    typo.write_text(typo.read_text().replace("Lack of funding", "Lack of fundng", 1))
    with pytest.raises(WaveFileRejected) as error:
        read_export(typo, codebook.for_wave("2024"), layout="surveymonkey")
    assert "'Lack of fundng' is not an option of trust_barriers in the codebook (nearest: 'Lack of funding'" \
           in error.value.reason


def test_the_codebook_digest_of_a_wave_changes_only_with_what_decides_that_wave(tmp_path, codebook):
    def relabel_financial(raw):
        raw["questions"][2]["options"][6]["label"] = "Financial pressure"
    changed = load_codebook(_codebook_with(tmp_path, relabel_financial))
    assert changed.digest_for("2024") == codebook.digest_for("2024")  # not asked in 2024
    assert changed.digest_for("2025") != codebook.digest_for("2025")
    stricter = load_codebook(_codebook_with(tmp_path, lambda raw: raw["reporting"].update(min_base=11)))
    assert stricter.digest_for("2023") != codebook.digest_for("2023")  # suppression decides every wave
    # an undeclared wave depends on the whole codebook: declaring it anywhere is a change
    assert codebook.digest_for("2031") != changed.digest_for("2031")


def test_an_archived_declaration_keeps_a_loaded_wave_declared_only_while_its_landing_folder_is_gone(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    kept = archive / SURVEY_ID / "2026" / "wave.yaml"
    kept.parent.mkdir(parents=True)
    kept.write_text("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\n")
    assert [d.wave_id for d in wave_declarations(landing, archive, SURVEY_ID)] == ["2026"]
    (landing / SURVEY_ID / "2026").mkdir(parents=True)  # the folder is back, without a wave.yaml
    assert wave_declarations(landing, archive, SURVEY_ID) == ()


def test_a_wave_listed_twice_in_the_codebook_is_refused_whatever_else_is_declared(tmp_path):
    def twice(raw):
        raw["waves"].append(dict(raw["waves"][1], fieldwork_start="2030-09-01", fieldwork_end="2030-09-30"))
    path = _codebook_with(tmp_path, twice)
    declared = DeclaredWave("2026", WaveSettings(fieldwork_start="2026-09-01", fieldwork_end="2026-09-30"), "w.yaml")
    for declarations in ([], [declared]):
        with pytest.raises(CodebookError, match=r"wave ids must be unique; repeated: \['2024'\]"):
            load_codebook(path, declarations)


def test_what_only_labels_the_publication_or_formats_a_wave_yaml_decides_nothing(tmp_path, codebook):
    from home.landing import settings_bytes

    retitled = load_codebook(_codebook_with(tmp_path, lambda raw: raw.update(title="Another title", publisher="X")))
    assert retitled.digest_for("2024") == codebook.digest_for("2024")
    plain, noted = tmp_path / "plain.yaml", tmp_path / "noted.yaml"
    plain.write_text("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-09-30\n")
    noted.write_bytes(b"# from the survey team\r\nfieldwork_end: 2026-09-30\r\nfieldwork_start: 2026-09-01\r\n")
    assert settings_bytes(plain) == settings_bytes(noted)
    noted.write_text("fieldwork_start: 2026-09-01\nfieldwork_end: 2026-10-03\n")
    assert settings_bytes(plain) != settings_bytes(noted)


def test_an_option_not_offered_in_the_wave_inside_a_joined_cell_refuses_the_file_saying_so(tmp_path, codebook):
    from tests.exports import microsoft_forms

    export = microsoft_forms(read_sample("2025"), codebook.for_wave("2025"), tmp_path / "forms.xlsx")
    with pytest.raises(WaveFileRejected) as error:
        read_export(export, codebook.for_wave("2024"))
    assert error.value.reason.startswith(
        "column 'What are the main barriers to improvement at your trust? (select all that apply)': "
        "'Financial pressures' is not offered in this wave: it is option 'Financial pressures' of trust_barriers")
    # (a label the codebook does not know at all stays a row's fault: tests/bad_inputs, forms_unknown_label_*)
