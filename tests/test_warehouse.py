"""The warehouse: tidy tables, a wave replaced whole and alone, reloads idempotent, no personal data,
and suppression of small bases. Plain functions are called directly here; Dagster runs are in test_dagster."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sample_data.generator import LANDING_DIR, sample_exports
from schemas.reference import load_trusts
from tests.conftest import SURVEY_ID, personal_values_in, read_sample, sample_wave_path, write_csv
from validation.engine import validate_wave
from warehouse.breakdowns import compute_indicator_breakdowns
from warehouse.connection import connect
from warehouse.dimensions import write_survey_dimensions, write_trusts
from warehouse.indicators import compute_headline_indicators, write_headline_indicators
from warehouse.load import WaveDoesNotReconcile, load_wave, wave_reconciliation
from warehouse.pseudonyms import Pseudonymiser
from warehouse.trends import compute_indicator_trends
from warehouse.trust_counts import COUNT_TABLES, count_wave_from_responses, counts_are_current

TIDY_TABLES = ["waves", "questions", "options", "trusts", "respondents", "responses", "quarantine", "load_log",
               "headline_indicators", "indicator_trends", "indicators"]


PSEUDONYMISE = Pseudonymiser(b"a key for tests only, 32 bytes..")


def _load(con, codebook, resolver, wave_id: str, path: Path, run_id: str = "run-1"):
    validation = validate_wave([path], codebook, wave_id, resolver)
    load_wave(con, codebook, wave_id, validation, run_id=run_id, pseudonymise=PSEUDONYMISE)
    indicators = compute_headline_indicators(con, SURVEY_ID, wave_id, codebook.reporting)
    write_headline_indicators(con, SURVEY_ID, wave_id, indicators)
    return validation


@pytest.fixture()
def warehouse(tmp_path, codebook):
    with connect(tmp_path / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        yield con


def _snapshot(con, wave_id=None) -> dict[str, pd.DataFrame]:
    tables = {}
    for table in ("respondents", "respondent_fields", "responses", "quarantine", "headline_indicators", "load_log"):
        frame = con.execute(f"select * from {table} where wave_id = $wave or $wave is null", {"wave": wave_id}).df()
        frame = frame.drop(columns=["run_id", "loaded_at"], errors="ignore")
        tables[table] = frame.sort_values(list(frame.columns[:5])).reset_index(drop=True)
    return tables


def test_every_tidy_table_is_there(demo_run):
    with connect(demo_run.working, read_only=True) as con:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert set(TIDY_TABLES) <= names
        # Each survey's working database holds its own survey only.
        by_survey = dict(con.execute("select survey_id, count(*) from respondents group by all").fetchall())
        assert by_survey == {SURVEY_ID: 129 + 142 + 118}
        # long format: a single-choice answer is one row with its option id, a tick is one row
        answer = con.execute(
            """select option_id from responses where wave_id = '2023' and question_id = 'trust_approach_stage'
               and respondent_id = ?""", [demo_run.pseudonym("2023-000001")]).fetchall()
        assert len(answer) == 1
        comments = read_sample("2023")["comments"].dropna()
        stored = con.execute("select text from free_text_responses where wave_id = '2023'").fetchall()
        assert sorted(t for (t,) in stored) == sorted(comments)
        assert "comments" not in {q for (q,) in con.execute("select distinct question_id from responses").fetchall()}
    with connect(demo_run.working_of("staff-pulse"), read_only=True) as con:
        by_survey = dict(con.execute("select survey_id, count(*) from respondents group by all").fetchall())
    staff = sum(len(pd.read_csv(p)) for p in sample_exports(LANDING_DIR / "staff-pulse"))
    assert by_survey == {"staff-pulse": staff}


def test_responses_match_the_file_cell_for_cell(warehouse, codebook, resolver):
    _load(warehouse, codebook, resolver, "2024", sample_wave_path("2024"))
    raw = read_sample("2024")
    labels = {o.label: o.id for o in codebook.question("trust_approach_stage").options}
    stored = dict(warehouse.execute(
        "select respondent_id, option_id from responses where question_id = 'trust_approach_stage'").fetchall())
    assert stored == {PSEUDONYMISE(SURVEY_ID, r): labels[v] for r, v in zip(raw["respondent_id"], raw["trust_approach_stage"])}
    ticks = warehouse.execute(
        "select count(*) from responses where question_id = 'pc_barriers' and option_id = 'governance'").fetchone()[0]
    assert ticks == (raw["pc_barriers.governance"] == "1").sum()
    roles = {o.label: o.id for o in codebook.respondent.field("role").options}
    stored_roles = dict(warehouse.execute("select respondent_id, option_id from respondent_fields where field_id = 'role'").fetchall())
    assert stored_roles == {PSEUDONYMISE(SURVEY_ID, r): roles[v] for r, v in zip(raw["respondent_id"], raw["role"])}


def test_loading_the_same_wave_twice_leaves_the_same_rows(warehouse, codebook, resolver, tmp_path):
    rows = read_sample("2023")
    rows.loc[7, "trust_code"] = "NOT-A-TRUST"
    path = write_csv(rows, tmp_path / "wave.csv")
    _load(warehouse, codebook, resolver, "2023", path, run_id="first")
    before = _snapshot(warehouse)
    assert len(before["quarantine"]) == 1
    _load(warehouse, codebook, resolver, "2023", path, run_id="second")
    after = _snapshot(warehouse)
    del before["load_log"], after["load_log"]
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], check_dtype=False)
    log = warehouse.execute("select run_id, rows_read, sha256 from load_log order by loaded_at").fetchall()
    assert [r[0] for r in log] == ["first", "second"]  # the log keeps each load
    assert log[0][1:] == log[1][1:]


def test_a_corrected_wave_replaces_that_wave_only(warehouse, codebook, resolver, tmp_path):
    _load(warehouse, codebook, resolver, "2023", sample_wave_path("2023"))
    _load(warehouse, codebook, resolver, "2024", sample_wave_path("2024"))
    wave_2023 = _snapshot(warehouse, "2023")
    corrected = read_sample("2024").head(50)
    corrected.loc[0, "role"] = "Not a role"
    _load(warehouse, codebook, resolver, "2024", write_csv(corrected, tmp_path / "corrected.csv"), run_id="fix")

    for table, frame in _snapshot(warehouse, "2023").items():
        pd.testing.assert_frame_equal(frame, wave_2023[table], check_dtype=False)
    assert warehouse.execute("select count(*) from respondents where wave_id = '2024'").fetchone()[0] == 49
    assert warehouse.execute("select count(*) from quarantine where wave_id = '2024'").fetchone()[0] == 1
    counts = wave_reconciliation(warehouse, SURVEY_ID, "2024", "fix")
    assert counts["reconciles"] and counts["logged_rows_read"] == 50


def test_a_load_interrupted_mid_transaction_changes_nothing(warehouse, codebook, resolver, monkeypatch, tmp_path):
    _load(warehouse, codebook, resolver, "2023", sample_wave_path("2023"))
    before = _snapshot(warehouse)
    private_runs = {table: warehouse.execute(f"select distinct run_id from private.{table}").fetchall()
                    for table in ("quarantine", "free_text_responses")}
    # Fail after the private values were committed (a transaction of their own) and the wave's rows
    # deleted and its respondents and choices inserted.
    def interrupted(*_args):
        raise RuntimeError("interrupted")
    monkeypatch.setattr("warehouse.load.count_staged_wave", interrupted)
    rows = read_sample("2023").head(30)
    rows.loc[3, "trust_code"] = "ZZ-NOT-A-TRUST"  # a quarantined row of its own, in the private file first
    smaller = write_csv(rows, tmp_path / "smaller.csv")
    with pytest.raises(RuntimeError, match="interrupted"):
        load_wave(warehouse, codebook, "2023", validate_wave([smaller], codebook, "2023", resolver), run_id="broken",
                  pseudonymise=PSEUDONYMISE)
    after = _snapshot(warehouse)
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], check_dtype=False)
    assert {table: warehouse.execute(f"select distinct run_id from private.{table}").fetchall()
            for table in private_runs} == private_runs  # the broken run's private rows are gone


def test_a_respondent_stored_twice_rolls_the_load_back(warehouse, codebook, resolver):
    """`respondents` has no key (its index would not fit in memory for millions of respondents): the
    reconciliation is what refuses a wave holding a respondent twice."""
    _load(warehouse, codebook, resolver, "2023", sample_wave_path("2023"))
    before = _snapshot(warehouse)
    validation = validate_wave([sample_wave_path("2023")], codebook, "2023", resolver)
    # As a faulty validation might let through: the second valid row given the first one's respondent id.
    with duckdb.connect(str(validation.staged.database)) as staging:
        staging.execute("CREATE TABLE doubled AS SELECT * FROM valid_rows")
        staging.execute("UPDATE doubled SET respondent_id = (SELECT respondent_id FROM doubled WHERE source_row = 2) "
                        "WHERE source_row = 3")
    doubled = validation.__class__(dataclasses.replace(validation.staged, table="doubled"), validation.quarantine,
                                   validation.files)
    with pytest.raises(WaveDoesNotReconcile) as error:
        load_wave(warehouse, codebook, "2023", doubled, run_id="doubled", pseudonymise=PSEUDONYMISE)
    counts = error.value.counts
    assert counts["respondents_in_warehouse"] == 129 and counts["distinct_respondents_in_warehouse"] == 128
    after = _snapshot(warehouse)
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], check_dtype=False)


def test_rows_lost_in_the_load_roll_it_back(warehouse, codebook, resolver):
    _load(warehouse, codebook, resolver, "2023", sample_wave_path("2023"))
    before = _snapshot(warehouse)
    # An options table out of step with the codebook: respondents with this role would be lost by the join.
    warehouse.execute("delete from options where question_id = 'role' and option_id = 'chair'")
    validation = validate_wave([sample_wave_path("2023")], codebook, "2023", resolver)
    with pytest.raises(WaveDoesNotReconcile) as error:
        load_wave(warehouse, codebook, "2023", validation, run_id="lossy", pseudonymise=PSEUDONYMISE)
    chairs = (read_sample("2023")["role"] == "Chair").sum()
    counts = error.value.counts
    assert counts["logged_rows_loaded"] == counts["respondents_in_warehouse"] == 129
    assert counts["answers_given"] - counts["answers_in_warehouse"] == chairs  # their roles, lost by the join
    after = _snapshot(warehouse)
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], check_dtype=False)


def test_timestamps_with_and_without_offsets_load_as_utc(warehouse, codebook, resolver, tmp_path):
    rows = read_sample("2024").head(12)
    rows.loc[0, "submitted_at"] = "2024-09-10T09:15:00+01:00"
    rows.loc[1, "submitted_at"] = "2024-09-10T09:15:00"
    _load(warehouse, codebook, resolver, "2024", write_csv(rows, tmp_path / "tz.csv"))
    stored = dict(warehouse.execute(
        "select respondent_id, strftime(submitted_at at time zone 'UTC', '%H:%M') from respondents").fetchall())
    assert stored[PSEUDONYMISE(SURVEY_ID, rows.loc[0, "respondent_id"])] == "08:15"
    assert stored[PSEUDONYMISE(SURVEY_ID, rows.loc[1, "respondent_id"])] == "09:15"


@pytest.mark.parametrize(("answering", "suppressed"), [(9, True), (10, False)])
def test_suppression_starts_below_a_base_of_ten(warehouse, codebook, resolver, tmp_path, answering, suppressed):
    rows = read_sample("2024").head(14).copy()
    optional = [c for q in codebook.questions if not q.required for c in q.columns]
    rows.loc[answering:, optional] = None
    _load(warehouse, codebook, resolver, "2024", write_csv(rows, tmp_path / "edge.csv"))
    row = warehouse.execute(
        "select base, suppressed, pct from headline_indicators where indicator_id = 'pc_barriers.governance'").fetchone()
    assert row[0] == answering and row[1] is suppressed and (row[2] is None) is suppressed


def test_small_bases_are_suppressed(warehouse, codebook, resolver, tmp_path):
    rows = read_sample("2024").head(14).copy()
    optional = [c for q in codebook.questions if not q.required for c in q.columns]
    rows.loc[:5, optional] = None  # 8 of 14 answer the optional questions: below the base of 10
    _load(warehouse, codebook, resolver, "2024", write_csv(rows, tmp_path / "small.csv"))
    table = warehouse.execute("select * from headline_indicators where wave_id = '2024'").df().set_index("indicator_id")
    small = table.loc["pc_barriers.shared_systems"]
    assert (small["base"], bool(small["suppressed"])) == (8, True)
    assert pd.isna(small["pct"]) and pd.isna(small["ci_low"]) and pd.isna(small["ci_high"])
    assert small["numerator"] == (rows["pc_barriers.shared_systems"] == "1").sum()
    large = table.loc["trust_barriers.funding"]
    assert (large["base"], bool(large["suppressed"])) == (14, False)
    assert large["pct"] == pytest.approx(100 * (rows["trust_barriers.funding"] == "1").sum() / 14)


def test_trends_pair_consecutive_waves_and_flag_significance(warehouse, codebook, resolver):
    for wave_id in ("2023", "2024", "2025"):
        _load(warehouse, codebook, resolver, wave_id, sample_wave_path(wave_id))
    trends = compute_indicator_trends(warehouse, codebook).set_index(["indicator_id", "wave_id"])
    first = trends.loc[("pc_impact_alignment.fully_or_mostly", "2023")]
    assert pd.isna(first["previous_wave_id"]) and first["note"] == "first wave with data"
    rise = trends.loc[("pc_impact_alignment.fully_or_mostly", "2024")]
    # 2023: 32 of 129; 2024: 56 of 133 answering (9 of 142 skipped the collaborative questions).
    assert rise["previous_wave_id"] == "2023"
    assert rise["change"] == pytest.approx(100 * (56 / 133 - 32 / 129))
    assert bool(rise["significant"]) and rise["p_value"] < 0.05
    flat = trends.loc[("trust_approach_stage.implementing", "2024")]
    assert not bool(flat["significant"]) and flat["p_value"] > 0.05
    count = trends.loc[("respondents", "2025")]
    assert (count["value"], count["change"]) == (118, 118 - 142)
    assert pd.isna(count["significant"])


def test_trends_do_not_test_changes_on_suppressed_bases(warehouse, codebook, resolver, tmp_path):
    optional = [c for q in codebook.questions if not q.required for c in q.columns]
    for wave_id, answering in (("2023", 40), ("2024", 6)):
        rows = read_sample(wave_id).head(40).copy()
        rows.loc[answering:, optional] = None
        _load(warehouse, codebook, resolver, wave_id, write_csv(rows, tmp_path / f"{wave_id}.csv"))
    trends = compute_indicator_trends(warehouse, codebook).set_index(["indicator_id", "wave_id"])
    small = trends.loc[("pc_barriers.shared_systems", "2024")]
    assert pd.isna(small["p_value"]) and pd.isna(small["significant"]) and pd.isna(small["value"])
    assert small["note"] == "base too small in this or the previous wave"
    tested = trends.loc[("trust_barriers.funding", "2024")]
    assert pd.notna(tested["p_value"]) and tested["note"] is None


def test_changed_questions_are_not_compared_across_the_change(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        trends = con.execute("select * from indicator_trends where wave_id = '2025'").df().set_index("indicator_id")
        new_option_waves = con.execute(
            "select wave_id from headline_indicators where indicator_id = 'trust_barriers.financial_pressures'").fetchall()
    assert new_option_waves == [("2025",)]  # not reported for waves that did not offer it
    for changed in ("trust_barriers.operational_pressures", "trust_support_needs.leadership_behaviours"):
        row = trends.loc[changed]
        assert not row["comparable"] and pd.isna(row["change"]) and pd.isna(row["significant"])
        assert "not comparable" in row["note"]
    assert trends.loc["trust_barriers.financial_pressures", "note"] == "first wave with data"
    unchanged = trends.loc["trust_approach_stage.embedded"]
    assert unchanged["comparable"] and pd.notna(unchanged["change"]) and pd.notna(unchanged["p_value"])


def test_no_personal_data_anywhere_in_the_warehouse(demo_run):
    personal = set()
    for wave_id in ("2023", "2024", "2025"):
        raw = read_sample(wave_id)
        # names, emails, and the survey tool's respondent ids, which are stored only as pseudonyms
        personal |= set(raw["name"]) | set(raw["email"]) | set(raw["respondent_id"])
    for database in (demo_run.working, demo_run.warehouse):
        assert personal_values_in(database, personal) == []
        with duckdb.connect(str(database), read_only=True) as con:
            columns = con.execute("select table_name, column_name from duckdb_columns() where not internal").fetchall()
        # `trusts.name` is a trust's name; no other table has a personal-data column of the codebook
        assert not {c for t, c in columns if t != "trusts"} & {"name", "email", "ip_address"}


def test_a_composite_of_several_ticks_counts_each_respondent_once(tmp_path, resolver):
    """Long rows are counted without DISTINCT where no respondent can appear twice; a composite over a
    multiple-choice question is where one can (two of its options ticked)."""
    import yaml

    from schemas.codebook import Codebook
    from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR
    from warehouse.breakdowns import compute_indicator_breakdowns

    raw = yaml.safe_load((BUNDLED_CODEBOOKS_DIR / f"{SURVEY_ID}.yaml").read_text(encoding="utf-8"))
    raw["indicators"]["composites"].append({"id": "trust_barriers.money_or_staff", "question": "trust_barriers",
                                            "options": ["funding", "workforce_capacity"], "label": "Either"})
    codebook = Codebook.model_validate(raw)
    with connect(tmp_path / "survey.duckdb") as con:
        write_trusts(con, load_trusts())
        write_survey_dimensions(con, codebook)
        valid = _load(con, codebook, resolver, "2024", write_csv(read_sample("2024"), tmp_path / "2024.csv")).valid_rows()
        indicators = compute_headline_indicators(con, SURVEY_ID, "2024", codebook.reporting).set_index("indicator_id")
        breakdowns = compute_indicator_breakdowns(con, SURVEY_ID, "2024", codebook.reporting)

    funding, staff = valid["trust_barriers.funding"] == "1", valid["trust_barriers.workforce_capacity"] == "1"
    assert (funding & staff).sum() > 10  # the case under test is in the data
    answered = valid[[c for c in valid.columns if c.startswith("trust_barriers.")]].eq("1").any(axis=1)
    composite = indicators.loc["trust_barriers.money_or_staff"]
    assert (composite["numerator"], composite["base"]) == ((funding | staff).sum(), answered.sum())
    # each trust counts once: every respondent weighs 1 / respondents from the same trust in the wave
    weight = 1 / valid.groupby("trust_code")["trust_code"].transform("size")
    expected = 100 * weight[funding | staff].sum() / weight[answered].sum()
    assert composite["pct_trust_weighted"] == pytest.approx(expected, rel=1e-12)
    by_type = valid.assign(trust_type=valid["trust_code"].map(load_trusts().set_index("ods_code")["type"]))
    expected_cells = by_type[funding | staff].groupby("trust_type").size()
    shown = breakdowns[(breakdowns["indicator_id"] == "trust_barriers.money_or_staff")
                       & (breakdowns["dimension"] == "trust_type") & breakdowns["numerator"].notna()]
    assert len(shown) >= 2
    for row in shown.itertuples():
        assert row.numerator == expected_cells[row.category]


def test_counts_by_trust_follow_the_latest_load_and_the_catalogue(warehouse, codebook, resolver, tmp_path):
    """Indicator steps add up counts per trust: breakdowns recount a wave reloaded since, and the headline
    step always recounts, so an indicator added to the catalogue after the load is counted too."""
    rows = read_sample("2024")
    _load(warehouse, codebook, resolver, "2024", write_csv(rows, tmp_path / "full.csv"))
    fewer = rows.head(40)
    validation = validate_wave([write_csv(fewer, tmp_path / "fewer.csv")], codebook, "2024", resolver)
    load_wave(warehouse, codebook, "2024", validation, run_id="run-2", pseudonymise=PSEUDONYMISE)
    # Breakdowns alone (no headline step since the reload) must not add up the first load's counts.
    breakdowns = compute_indicator_breakdowns(warehouse, SURVEY_ID, "2024", codebook.reporting)
    by_type = breakdowns[(breakdowns["dimension"] == "trust_type")
                         & (breakdowns["indicator_id"] == breakdowns["indicator_id"].iloc[0])]
    assert by_type["base"].fillna(0).sum() <= 40
    stage = fewer["trust_approach_stage"]
    label = stage.dropna().iloc[0]
    option = next(o.id for o in codebook.question("trust_approach_stage").options if o.label == label)
    # A catalogue indicator added after the load: one option of a question, counted from the file by hand.
    warehouse.execute(
        "INSERT INTO indicators (survey_id, indicator_id, indicator_kind, label, question_id, option_ids) "
        "VALUES (?, 'added_later', 'share', 'Added after the load', 'trust_approach_stage', ?)", [SURVEY_ID, [option]])
    indicators = compute_headline_indicators(warehouse, SURVEY_ID, "2024", codebook.reporting).set_index("indicator_id")
    assert indicators.loc["added_later", "numerator"] == (stage == label).sum()
    assert indicators.loc["added_later", "base"] == stage.notna().sum()


@pytest.mark.parametrize("wave_id", ["2023", "2024", "2025"])
def test_counts_by_trust_made_while_loading_equal_counts_from_the_long_responses(warehouse, codebook, resolver, wave_id):
    """The load counts each wave by trust from its rows in the wide layout (one scan); recounting from
    `responses` with the counting rules of schema.sql must give the same rows, composites included."""
    validation = validate_wave([sample_wave_path(wave_id)], codebook, wave_id, resolver)
    load_wave(warehouse, codebook, wave_id, validation, run_id="run-1", pseudonymise=PSEUDONYMISE)
    validation.discard()
    assert counts_are_current(warehouse, SURVEY_ID, wave_id)
    query = "SELECT * FROM {} WHERE wave_id = ? ORDER BY ALL"
    made_while_loading = {t: warehouse.execute(query.format(t), [wave_id]).df() for t in COUNT_TABLES}
    count_wave_from_responses(warehouse, SURVEY_ID, wave_id)
    for table, frame in made_while_loading.items():
        # The board survey has no mean (no scale or numeric question): tests/test_scales.py counts means both ways.
        assert len(frame) > 0 if table != "trust_mean_sums" else frame.empty
        pd.testing.assert_frame_equal(warehouse.execute(query.format(table), [wave_id]).df(), frame, obj=table)
    composites = [c.id for c in codebook.indicators.composites]
    assert set(composites) <= set(made_while_loading["trust_share_numerators"]["indicator_id"])
