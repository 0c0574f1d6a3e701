"""The synthetic-wave generator is deterministic, calibrated, and works for other codebooks and sizes."""

from __future__ import annotations

import pandas as pd
import pytest

from sample_data.generator import (
    LANDING_DIR,
    WaveTargets,
    generate_wave,
    load_targets,
    random_targets,
    write_bundled_sample,
)
from schemas.codebook import Codebook
from tests.conftest import sample_wave_path


def test_regenerating_the_bundled_sample_gives_the_same_bytes(tmp_path, codebook, trust_codes):
    written = write_bundled_sample(codebook, trust_codes, tmp_path)
    assert [p.name for p in written] == [sample_wave_path(w).name for w in ("2023", "2024", "2025")]
    for path in written:
        wave_id = path.parent.name
        assert path.read_bytes() == sample_wave_path(wave_id).read_bytes(), f"wave {wave_id} differs"


def test_regenerating_the_staff_pulse_sample_gives_the_same_bytes_and_follows_its_codebook(tmp_path, trust_codes):
    """Its four waves, byte for byte; every answer as the survey tool would allow it: routed answers only where
    routed, "None of these" alone, whole numbers in range."""
    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook

    staff = load_codebook(BUNDLED_CODEBOOKS_DIR / "staff-pulse.yaml")
    written = write_bundled_sample(staff, trust_codes, tmp_path)
    assert [p.parent.name for p in written] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    for path in written:
        bundled = LANDING_DIR / "staff-pulse" / path.parent.name / path.name
        assert path.read_bytes() == bundled.read_bytes(), f"wave {path.parent.name} differs"
        wave = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        assert wave.loc[wave["qi_training"] != "Yes", "qi_training_useful"].isna().all()
        assert wave.loc[wave["qi_training"] == "Yes", "qi_training_useful"].notna().any()
        others = wave[[c for c in wave if c.startswith("improvement_barriers.") and not c.endswith(".none")]]
        assert (others[wave["improvement_barriers.none"] == "1"] == "0").all().all()
        hours = pd.to_numeric(wave["unpaid_hours"]).dropna()
        assert hours.between(0, 80).all() and (hours == hours.round()).all()
        assert 1900 <= len(wave) <= 2200 and 20 <= wave["trust_code"].nunique() <= 25


def test_bundled_files_are_labelled_synthetic(codebook):
    for wave_id in ("2023", "2024", "2025"):
        assert "SYNTHETIC" in sample_wave_path(wave_id).name
        assert codebook.wave(wave_id).synthetic


def test_calibrated_counts_are_exact(codebook, trust_codes):
    targets = load_targets("improvement-journey")["2023"]
    frame = generate_wave(codebook, "2023", trust_codes, targets)
    assert len(frame) == 129
    assert frame["trust_code"].nunique() == 95
    assert set(frame["trust_code"]) <= set(trust_codes)
    labels = {o.id: o.label for o in codebook.question("trust_approach_stage").options}
    counts = frame["trust_approach_stage"].value_counts()
    for option_id, expected in targets.counts["trust_approach_stage"].items():
        assert counts.get(labels[option_id], 0) == expected
    for option_id, expected in targets.counts["trust_barriers"].items():
        assert (frame[f"trust_barriers.{option_id}"] == "1").sum() == expected


def test_every_answerer_ticks_an_option_and_skippers_leave_blanks(codebook, trust_codes):
    targets = load_targets("improvement-journey")["2024"]
    frame = generate_wave(codebook, "2024", trust_codes, targets)
    for question in codebook.for_wave("2024").questions:
        if question.type != "multiple":
            continue
        flags = frame[question.option_columns]
        answered = flags.notna().all(axis=1)
        assert flags[answered].eq("1").any(axis=1).all(), question.id
        expected_skips = 0 if question.required else targets.skip_optional
        assert (~answered).sum() == expected_skips, question.id
        assert flags[~answered].isna().all(axis=None)


def test_same_seed_same_wave_other_seed_other_wave(codebook, trust_codes):
    a = generate_wave(codebook, "2025", trust_codes, random_targets(500, 120, seed=7))
    b = generate_wave(codebook, "2025", trust_codes, random_targets(500, 120, seed=7))
    c = generate_wave(codebook, "2025", trust_codes, random_targets(500, 120, seed=8))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_targets_that_cannot_add_up_are_refused(codebook, trust_codes):
    bad = WaveTargets(seed=1, respondents=20, trusts=10, counts={"trust_approach_stage": {"embedded": 19}})
    with pytest.raises(ValueError, match="add up to 19, the base is 20"):
        generate_wave(codebook, "2023", trust_codes, bad)
    unknown = WaveTargets(seed=1, respondents=20, trusts=10, counts={"trust_barriers": {"weather": 3}})
    with pytest.raises(ValueError, match="unknown options"):
        generate_wave(codebook, "2023", trust_codes, unknown)


def test_generator_serves_another_codebook_at_any_size(trust_codes):
    wide = Codebook.model_validate(
        {
            "survey_id": "wide-test",
            "title": "A wide test survey",
            "publisher": "Tests",
            "version": "1",
            "waves": [{"id": "w1", "fieldwork_start": "2026-01-01", "fieldwork_end": "2026-01-31",
                       "population_trusts": 200}],
            "respondent": {
                "id_column": "rid", "submitted_at_column": "at",
                "trust": {"column": "org", "wording": "Organisation"},
                "role": {"column": "job", "wording": "Role",
                         "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]},
            },
            "questions": [
                {"id": f"q{i}", "type": "single" if i % 2 else "multiple", "title": f"Q{i}",
                 "wording": f"Question {i}?", "required": True,
                 "options": [{"id": f"o{j}", "label": f"Option {j}"} for j in range(4)]}
                for i in range(20)
            ],
        }
    )
    frame = generate_wave(wide, "w1", trust_codes, random_targets(5000, 150, seed=3))
    assert frame.shape == (5000, len(wide.expected_columns))
    assert list(frame.columns) == wide.expected_columns
    assert frame["rid"].is_unique
    assert frame["q1"].isin([f"Option {j}" for j in range(4)]).all()


def test_each_wave_has_the_questions_asked_in_it(codebook, trust_codes):
    wave_2023 = generate_wave(codebook, "2023", trust_codes, random_targets(50, 20, seed=1))
    wave_2025 = generate_wave(codebook, "2025", trust_codes, random_targets(50, 20, seed=1))
    assert "trust_barriers.financial_pressures" not in wave_2023.columns  # first offered in 2025
    assert "trust_barriers.financial_pressures" in wave_2025.columns


def test_a_large_wave_is_written_in_chunks_as_one_valid_file(codebook, trust_codes, resolver, tmp_path):
    from sample_data.generator import write_large_wave_csv
    from validation.engine import validate_wave

    path = write_large_wave_csv(codebook, "2024", trust_codes, respondents=1000, seed=5,
                                path=tmp_path / "big.csv", chunk=300)
    frame = pd.read_csv(path, dtype=str)
    assert len(frame) == 1000  # four chunks, one header
    assert list(frame.columns) == list(generate_wave(codebook, "2024", trust_codes, random_targets(10, 5, seed=1)))
    assert frame["respondent_id"].is_unique
    validation = validate_wave([path], codebook, "2024", resolver)
    assert (validation.rows_read, validation.rows_quarantined) == (1000, 0)
    assert not list(tmp_path.glob(".*"))  # no partial file left
