"""A wide codebook for benchmarks: 50 closed questions (40 single-choice, 10 multiple-choice), five
options each, and as many waves as asked for, in the shape of a national staff or patient survey.

Written as YAML into a survey home's ``codebooks/`` folder, where the pipeline picks up codebooks beside
the bundled ones; nothing of it is bundled with the package.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

SURVEY_ID = "wide-survey"
SINGLE_QUESTIONS = 40
MULTIPLE_QUESTIONS = 10
OPTIONS = 5

# Labels of a typical length in national surveys (about 20 characters), so that a 1,000,000-respondent
# wave is a CSV of about 1 GB.
SINGLE_LABELS = ["Strongly agree", "Agree somewhat", "Neither agree nor disagree", "Disagree somewhat",
                 "Strongly disagree"]
ROLE_LABELS = ["Nurse or midwife", "Medical or dental", "Allied health professional", "Administrative",
               "Other role"]


def wave_ids(waves: int) -> list[str]:
    return [str(2000 + i) for i in range(1, waves + 1)]


def wide_codebook(waves: int) -> dict:
    questions = []
    for q in range(1, SINGLE_QUESTIONS + 1):
        questions.append({
            "id": f"q{q:02d}", "type": "single", "title": f"Statement {q}",
            "wording": f"How far do you agree with statement {q} about your organisation?", "required": q <= 10,
            "options": [{"id": f"o{o}", "label": label} for o, label in enumerate(SINGLE_LABELS, start=1)],
        })
    for q in range(SINGLE_QUESTIONS + 1, SINGLE_QUESTIONS + MULTIPLE_QUESTIONS + 1):
        questions.append({
            "id": f"q{q:02d}", "type": "multiple", "title": f"Factors {q}",
            "wording": f"Which of these factors apply to you? (set {q}, select all that apply)", "required": False,
            "options": [{"id": f"f{o}", "label": f"Factor {o} of set {q}"} for o in range(1, OPTIONS + 1)],
        })
    start = dt.date(2001, 9, 1)
    return {
        "survey_id": SURVEY_ID,
        "title": "Wide benchmark survey (50 closed questions, SYNTHETIC)",
        "publisher": "benchmarks",
        "version": "1",
        "reporting": {"min_base": 10, "confidence_level": 0.95, "significance_level": 0.05},
        "waves": [
            {"id": wave_id, "fieldwork_start": start.replace(year=start.year + i),
             "fieldwork_end": start.replace(year=start.year + i) + dt.timedelta(days=30),
             "population_trusts": 202, "synthetic": True}
            for i, wave_id in enumerate(wave_ids(waves))
        ],
        "respondent": {
            "id_column": "respondent_id",
            "submitted_at_column": "submitted_at",
            "trust": {"column": "trust_code", "wording": "Which organisation do you work for?"},
            "fields": [{"column": "role", "title": "Role", "wording": "What is your role?",
                        "options": [{"id": f"r{i}", "label": label} for i, label in enumerate(ROLE_LABELS, start=1)]}],
            "personal_data": [],
        },
        "questions": questions,
        "indicators": {"composites": [], "headline": [f"q{q:02d}.o1" for q in range(1, 11)]},
    }


def write_wide_codebook(codebooks_dir: Path, waves: int) -> Path:
    codebooks_dir.mkdir(parents=True, exist_ok=True)
    path = codebooks_dir / f"{SURVEY_ID}.yaml"
    path.write_text(yaml.safe_dump(wide_codebook(waves), sort_keys=False), encoding="utf-8")
    return path
