"""The codebook loads, derives the right catalogue, and refuses a self-contradicting file clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, CodebookError, load_codebook, load_codebooks
from schemas.indicator_catalogue import indicator_catalogue
from schemas.questions import fold

BUNDLED = BUNDLED_CODEBOOKS_DIR / "improvement-journey.yaml"


def test_bundled_codebook_matches_the_questionnaire(codebook):
    assert codebook.survey_id == "improvement-journey"
    assert [q.id for q in codebook.questions] == [
        "trust_approach_stage", "trust_impact_alignment", "trust_barriers", "trust_support_needs",
        "trust_enabler_priorities", "pc_approach_stage", "pc_impact_alignment", "pc_barriers",
        "pc_support_needs", "pc_enabler_priorities", "comments",
    ]
    assert [o.id for o in codebook.question("trust_impact_alignment").options] == [
        "fully", "mostly", "partly", "not_aligned", "dont_know"]
    # Question 7 shares question 2's options; question 10 shares question 5's.
    assert codebook.question("pc_impact_alignment").options == codebook.question("trust_impact_alignment").options
    assert codebook.question("pc_enabler_priorities").options == codebook.question("trust_enabler_priorities").options
    assert codebook.respondent.personal_data == ("name", "email", "ip_address")
    assert codebook.wave("2023").population_trusts == 211


def test_catalogue_has_every_option_the_composites_and_the_counts(codebook):
    catalogue = {i.id: i for i in indicator_catalogue(codebook)}
    options = sum(len(q.options) for q in codebook.questions if q.type != "text")
    assert len(catalogue) == options + 2 + 3  # options, two composites, respondents/trusts/coverage
    composite = catalogue["trust_impact_alignment.fully_or_mostly"]
    assert composite.option_ids == ("fully", "mostly")
    assert catalogue["respondents"].kind == "count"
    assert catalogue["trust_coverage"].kind == "coverage"
    assert catalogue["trust_approach_stage.embedded"].headline_order == 1
    assert catalogue["trust_approach_stage.dont_know"].headline_order is None


def test_plain_layout_columns(codebook):
    columns = codebook.expected_columns
    assert columns[:6] == ["respondent_id", "submitted_at", "trust_code", "role", "name", "email"]
    assert "trust_barriers.operational_pressures" in columns
    assert "trust_barriers" not in columns  # a multiple-choice question is one 0/1 column per option
    assert "trust_approach_stage" in columns


def _broken(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(BUNDLED.read_text())
    change(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r["questions"].append(dict(r["questions"][0])), "question ids must be unique"),
        (lambda r: r["questions"][0]["options"].append({"id": "embedded", "label": "Again"}), "option ids"),
        (lambda r: r["questions"][0].update(type="ranking"), "questions.0.type"),
        (lambda r: r["questions"][0].update(opitons=[]), "opitons"),
        (lambda r: r.pop("survey_id"), "survey_id"),
        (lambda r: r["questions"][10].pop("max_length"), "needs max_length"),
        (lambda r: r["questions"][0].update(options=r["questions"][0]["options"][:1]), "at least two options"),
        (lambda r: r["questions"][2].update(id="Trust Barriers"), "questions.2.id"),
        (lambda r: r["indicators"]["composites"][0].update(options=["fully", "entirely"]), "unknown options ['entirely']"),
        (lambda r: r["indicators"]["composites"][0].update(question="comments"), "not a single- or multiple-choice"),
        (lambda r: r["indicators"]["headline"].append("trust_barriers.nonexistent"), "unknown indicators"),
        (lambda r: r["waves"][0].update(fieldwork_end="2023-08-01"), "ends before it starts"),
        (lambda r: r["waves"].append(dict(r["waves"][0])), "wave ids must be unique"),
        (lambda r: r["respondent"].update(personal_data=["name", "role"]), "column names"),
        (lambda r: r["reporting"].update(min_base=0), "reporting.min_base"),
        (lambda r: r["questions"][0].update(report_section="nowhere"), "names report_section 'nowhere', which"),
        (lambda r: r["questions"][1].pop("report_section"), "questions ['trust_impact_alignment'] name no report_section"),
        (lambda r: r["report_sections"].append({"id": "empty", "heading": "Nothing here"}), "sections ['empty'] have no question"),
        (lambda r: r["report_sections"].append(dict(r["report_sections"][0])), "report section ids must be unique"),
        (lambda r: r["questions"][0]["options"][0].update(short_label="x" * 41), "short_label"),
        (lambda r: r["reporting"]["pooled_groups"].update(ics={"A": "B"}), "breakdown dimensions ['ics']"),
        (lambda r: r["reporting"].update(breakdowns=["trust_type", "grade"]), "breakdown dimensions ['grade']"),
        (lambda r: r["respondent"]["fields"][0].update(options=r["respondent"]["fields"][0]["options"][:1]),
         "fields.0.options"),
    ],
)
def test_contradictions_are_refused_naming_file_and_field(tmp_path, change, expected):
    path = _broken(tmp_path, change)
    with pytest.raises(CodebookError) as error:
        load_codebook(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_a_first_version_codebook_names_its_one_respondent_field_role(tmp_path):
    """``role:`` (the first codebook version) is read as the first respondent field, and waves loaded with it
    keep their codebook digest: they are not loaded again for the change of notation."""
    raw = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    field = raw["respondent"].pop("fields")[0]
    raw["respondent"]["role"] = {k: v for k, v in field.items() if k != "title"}
    path = tmp_path / "first-version.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")

    first, current = load_codebook(path), load_codebook(BUNDLED)

    assert [f.column for f in first.respondent.fields] == ["role"]
    assert first.respondent.field("role").options == current.respondent.field("role").options
    assert first.digest_for("2023") == current.digest_for("2023")
    changed = first.respondent.field("role").model_copy(update={"wording": "Your board role?"})
    reworded = first.model_copy(update={"respondent": first.respondent.model_copy(update={"fields": (changed,)})})
    assert reworded.digest_for("2023") != current.digest_for("2023")


def test_unreadable_and_non_mapping_files(tmp_path):
    with pytest.raises(CodebookError, match="cannot read codebook"):
        load_codebook(tmp_path / "missing.yaml")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("survey_id: [unclosed\n")
    with pytest.raises(CodebookError, match="not valid YAML"):
        load_codebook(bad_yaml)
    a_list = tmp_path / "list.yaml"
    a_list.write_text("- one\n- two\n")
    with pytest.raises(CodebookError, match="must be a mapping"):
        load_codebook(a_list)


def test_a_home_codebook_overrides_the_bundled_one(tmp_path):
    raw = yaml.safe_load(BUNDLED.read_text())
    raw["version"] = "2026.1-local"
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(raw))
    codebooks = load_codebooks(BUNDLED_CODEBOOKS_DIR, tmp_path)
    assert codebooks["improvement-journey"].version == "2026.1-local"


def test_each_wave_sees_the_questionnaire_as_asked(codebook):
    barriers = {w: [o.id for o in codebook.for_wave(w).question("trust_barriers").options] for w in ("2024", "2025")}
    assert "financial_pressures" not in barriers["2024"] and "financial_pressures" in barriers["2025"]
    support = codebook.question("trust_support_needs")
    assert codebook.wording_in(support, "2024") == "Where would your trust most value support? (select all that apply)"
    assert "national support" in codebook.wording_in(support, "2025")
    # an export of either version is still recognised: the other wording is an alias in each wave
    assert "Where would your trust most value support? (select all that apply)" in codebook.for_wave("2025").question(
        "trust_support_needs").headings
    assert "trust_approach_stage" in codebook.comparable_questions("2024", "2025")
    assert "trust_barriers" not in codebook.comparable_questions("2024", "2025")  # an option was added
    assert "trust_support_needs" not in codebook.comparable_questions("2024", "2025")  # reworded
    assert "trust_support_needs" in codebook.comparable_questions("2023", "2024")


def test_a_question_asked_in_one_wave_only_is_comparable_with_none(tmp_path, codebook):
    first = codebook.questions[0].id
    changed = load_codebook(_broken(tmp_path, lambda r: r["questions"][0].update(asked_in=["2025"])))
    assert first in codebook.comparable_questions("2024", "2025")
    assert first not in changed.comparable_questions("2024", "2025")
    assert first not in changed.comparable_questions("2025", "2024")
    # the other questions are unaffected: every one asked alike in 2023 and 2024; in 2025 two changed
    every = {q.id for q in codebook.questions}
    assert changed.comparable_questions("2023", "2024") == every - {first}
    assert codebook.comparable_questions("2024", "2025") == every - {"trust_barriers", "trust_support_needs"}


def test_versions_must_name_declared_waves(tmp_path):
    path = _broken(tmp_path, lambda r: r["questions"][0].update(asked_in=["2023", "2031"]))
    with pytest.raises(CodebookError, match=r"names waves that are not declared: \['2031'\]"):
        load_codebook(path)


@pytest.mark.parametrize(("text", "folded"), [
    ("  Chief\u00a0Executive \t", "chief executive"),
    ("Don\u2019t\n\nknow", "don't know"),
    ("\u201cNone\u201d\u3000of\u2003these", '"none" of these'),
    ("A\x1cB", "a b"),  # an information separator is white space to Python's str and re alike
    ("STRASSE", "strasse"),
    ("Straße", "strasse"),  # casefold, not lower
    ("", ""),
])
def test_folding_ignores_case_quotes_and_any_run_of_white_space(text, folded):
    assert fold(text) == folded


def test_report_sections_keep_their_order_and_every_choice_question(codebook):
    sections = codebook.reported_sections()
    assert [heading for heading, _ in sections] == [
        "Where trusts are now", "Barriers to improvement at trust level", "At the provider collaborative level",
        "Common barriers across provider collaboratives", "Enablers of improvement"]
    reported = [q.id for _, questions in sections for q in questions]
    assert sorted(reported) == sorted(q.id for q in codebook.choice_questions)  # each once, none left out
    assert sections[0][1][0].id == "trust_approach_stage"


def test_without_report_sections_every_choice_question_is_reported_under_findings(tmp_path):
    raw = yaml.safe_load(BUNDLED.read_text())
    raw.pop("report_sections")
    for question in raw["questions"]:
        question.pop("report_section", None)
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(raw))
    codebook = load_codebook(path)
    assert [(h, [q.id for q in qs]) for h, qs in codebook.reported_sections()] == [
        ("Findings", [q.id for q in codebook.choice_questions])]


def test_an_option_is_shown_by_its_short_label(codebook):
    stage = codebook.question("trust_approach_stage")
    assert stage.options[0].shown_as == "Embedded and sustained" and stage.options[0].label.startswith("We have")
    assert stage.options[-1].shown_as == stage.options[-1].label == "Don't know"


def test_a_numeric_question_gets_the_statistics_its_codebook_names(tmp_path):
    """Mean and median by default; ``statistics: [mean]`` the mean alone; refused on any other type."""
    from schemas.indicator_catalogue import indicator_catalogue as catalogue

    staff = load_codebook(BUNDLED_CODEBOOKS_DIR / "staff-pulse.yaml")
    ids = {i.id for i in catalogue(staff)}
    assert {"unpaid_hours.mean", "unpaid_hours.median", "recommend_0_10.mean"} <= ids
    assert "recommend_0_10.median" not in ids
    path = _broken(tmp_path, lambda r: r["questions"][0].update(statistics=["mean"]))
    with pytest.raises(CodebookError, match="gives integer, min, max or statistics"):
        load_codebook(path)
