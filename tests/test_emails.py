"""Which emails identify a person (schemas.emails, keyed by validation/sql/text_macros.sql): the keys are typed by
hand, and the SQL's white space is Python's."""

import sys

import duckdb
import pytest

from schemas.emails import placeholders
from sql_text import read_sql
from validation.rules import SQL_DIR


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as con:
        con.execute(read_sql(SQL_DIR, "text_macros"))
        yield con


def email_key(con, email: str, extra: tuple[str, ...] = ()) -> str | None:
    """The key the staging database gives ``email``, with the default placeholders and ``extra``."""
    return con.execute("SELECT folded_email_key(email_fold($email), "
                       "(SELECT list(email_fold(p)) FROM unnest($placeholders) AS t(p)))",
                       {"email": email, "placeholders": list(placeholders(extra))}).fetchone()[0]


@pytest.mark.parametrize("email, key", [
    ("Priya.Okafor@Trust.NHS.uk", "priya.okafor@trust.nhs.uk"),
    ("  priya.okafor@trust.nhs.uk ", "priya.okafor@trust.nhs.uk"),
    ("\tpriya.okafor@trust.nhs.uk\u00a0\u3000", "priya.okafor@trust.nhs.uk"),  # tab, no-break and ideographic spaces
    ("ann.o\u2019neil@trust.nhs.uk", "ann.o'neil@trust.nhs.uk"),  # a curly apostrophe folds to straight
    ("testing.lead@trust.nhs.uk", "testing.lead@trust.nhs.uk"),  # a local part that only starts like one
    ("someone@noreply.trust.nhs.uk", "someone@noreply.trust.nhs.uk"),
])
def test_a_plausible_email_is_its_folded_self(con, email, key):
    assert email_key(con, email) == key


@pytest.mark.parametrize("email", [
    "n/a", "N/A", " none ", "-", "unknown", "Anonymous", "not given", "not  given",  # whole-value placeholders
    "noreply@trust.nhs.uk", "No-Reply@x.org", "test@trust.nhs.uk", "DoNotReply@nhs.net",  # placeholder local parts
    "no email", "@trust.nhs.uk", "someone@", "someone@localhost", "someone@trust.", "two@at@x.org",
    "first last@trust.nhs.uk", "first\u2003last@trust.nhs.uk", "",  # not an address
])
def test_placeholders_and_non_addresses_identify_nobody(con, email):
    assert email_key(con, email) is None


def test_a_codebook_adds_its_own_placeholders_to_the_defaults(con):
    extra = ("Survey@", "board.office@trust.nhs.uk")
    assert email_key(con, "survey@anywhere.org", extra) is None
    assert email_key(con, "Board.Office@trust.nhs.uk", extra) is None
    assert email_key(con, "n/a", extra) is None  # the defaults still hold
    assert email_key(con, "survey.lead@anywhere.org", extra) == "survey.lead@anywhere.org"
    assert email_key(con, "survey@anywhere.org") == "survey@anywhere.org"


def test_the_sql_white_space_is_pythons(con):
    """Cells are stripped in Python (str.strip); SQL must find the same characters: every code point."""
    python = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    found = con.execute("SELECT list(chr(c::INTEGER) ORDER BY c) FROM range(1, 1114112) AS t(c) "
                        "WHERE (c < 55296 OR c > 57343) AND regexp_matches(chr(c::INTEGER), white_space())").fetchone()[0]
    assert found == python
    # and stripping is found where Python's strip() would change or empty a cell
    for cell, changes in [(" a", True), ("a\u2028", True), ("", True), ("a b", False), ("a", False), ("\u200ba", False)]:
        assert con.execute("SELECT strip_changes($c)", {"c": cell}).fetchone()[0] is changes
        assert (cell.strip() != cell or not cell.strip()) is changes
