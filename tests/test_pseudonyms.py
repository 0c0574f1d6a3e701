"""Respondent pseudonyms: stable under one key, unrelated under another, and a key kept owner-only."""

from __future__ import annotations

import stat

import pytest

from home.settings import RESPONDENT_KEY_ENV, load_settings
from warehouse.pseudonyms import Pseudonymiser, respondent_key

KEY = b"0123456789abcdef0123456789abcdef"


def test_same_id_same_key_same_pseudonym_across_deliveries():
    first, again = Pseudonymiser(KEY), Pseudonymiser(bytes(KEY))
    assert first("improvement-journey", "R-17") == again("improvement-journey", "R-17")
    assert len(first("improvement-journey", "R-17")) == 24
    assert first("improvement-journey", None) is None


def test_pseudonyms_depend_on_the_key_the_survey_and_the_id():
    a = Pseudonymiser(KEY)("improvement-journey", "R-17")
    assert a != Pseudonymiser(b"another key of thirty-two bytes!")("improvement-journey", "R-17")
    assert a != Pseudonymiser(KEY)("another-survey", "R-17")
    assert a != Pseudonymiser(KEY)("improvement-journey", "R-18")
    assert "R-17" not in a


def test_short_keys_are_refused():
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymiser(b"short")


def test_a_short_key_in_the_key_file_is_refused_naming_the_file(tmp_path):
    key_file = tmp_path / "secrets" / "respondent.key"
    key_file.parent.mkdir()
    key_file.write_text("abc\n")  # cut by hand, say
    with pytest.raises(ValueError) as refused:
        respondent_key(key_file)
    assert str(refused.value).startswith(f"the respondent key in {key_file} is 3 bytes, and needs at least 16: ")
    assert "abc" not in str(refused.value)


def test_key_file_is_created_once_owner_only(tmp_path):
    key_file = tmp_path / "secrets" / "respondent.key"
    key = respondent_key(key_file)
    assert len(key) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert respondent_key(key_file) == key  # kept, not replaced


def test_the_environment_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(RESPONDENT_KEY_ENV, "a key set by the engineer, long enough")
    settings = load_settings()
    assert respondent_key(tmp_path / "unused.key", settings.respondent_key_text) == b"a key set by the engineer, long enough"
    assert not (tmp_path / "unused.key").exists()


def test_many_ids_at_once_give_the_same_pseudonyms_as_one_at_a_time():
    pseudonymise = Pseudonymiser(b"a key for this test only, 32 b..")
    ids = ["2024-000001", "ünïcode-id", "", None, float("nan"), "2024-000001"]
    assert pseudonymise.many("survey", ids) == [pseudonymise("survey", v) for v in ids]
    assert pseudonymise.many("other", ids[:1]) != pseudonymise.many("survey", ids[:1])


@pytest.mark.parametrize("key", [b"a key for this test only, 32 b..", b"k" * 100])  # longer than a block too
def test_the_warehouse_macro_gives_the_same_pseudonyms_from_the_key_pads(key):
    import duckdb

    from warehouse.connection import read_sql

    pseudonymise = Pseudonymiser(key)
    inner_pad, outer_pad = pseudonymise.pads()
    ids = ["2024-000001", "ünïcode-id", "with\x1fseparator", "x" * 300]
    with duckdb.connect() as con:
        con.execute(read_sql("schema"))  # where the macro is defined
        in_sql = [row[0] for row in con.execute(
            "SELECT keyed_pseudonym($inner, $outer, 'survey', id) FROM unnest($ids) WITH ORDINALITY AS t(id, n) "
            "ORDER BY n", {"inner": inner_pad, "outer": outer_pad, "ids": ids}).fetchall()]
    assert in_sql == [pseudonymise("survey", i) for i in ids]
