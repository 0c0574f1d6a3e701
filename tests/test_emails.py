"""Which emails identify a person (schemas.emails): the keys are typed by hand."""

import pytest

from schemas.emails import email_key, placeholder_set

DEFAULTS = placeholder_set()


@pytest.mark.parametrize("email, key", [
    ("Priya.Okafor@Trust.NHS.uk", "priya.okafor@trust.nhs.uk"),
    ("  priya.okafor@trust.nhs.uk ", "priya.okafor@trust.nhs.uk"),
    ("ann.o\u2019neil@trust.nhs.uk", "ann.o'neil@trust.nhs.uk"),  # a curly apostrophe folds to straight
    ("testing.lead@trust.nhs.uk", "testing.lead@trust.nhs.uk"),  # a local part that only starts like one
    ("someone@noreply.trust.nhs.uk", "someone@noreply.trust.nhs.uk"),
])
def test_a_plausible_email_is_its_folded_self(email, key):
    assert email_key(email, DEFAULTS) == key


@pytest.mark.parametrize("email", [
    "n/a", "N/A", "none", "-", "unknown", "Anonymous", "not given",  # whole-value placeholders
    "noreply@trust.nhs.uk", "No-Reply@x.org", "test@trust.nhs.uk", "DoNotReply@nhs.net",  # placeholder local parts
    "no email", "@trust.nhs.uk", "someone@", "someone@localhost", "someone@trust.", "two@at@x.org",
    "first last@trust.nhs.uk",  # not an address
])
def test_placeholders_and_non_addresses_identify_nobody(email):
    assert email_key(email, DEFAULTS) is None


def test_a_codebook_adds_its_own_placeholders_to_the_defaults():
    placeholders = placeholder_set(["Survey@", "board.office@trust.nhs.uk"])
    assert email_key("survey@anywhere.org", placeholders) is None
    assert email_key("Board.Office@trust.nhs.uk", placeholders) is None
    assert email_key("n/a", placeholders) is None  # the defaults still hold
    assert email_key("survey.lead@anywhere.org", placeholders) == "survey.lead@anywhere.org"
    assert email_key("survey@anywhere.org", DEFAULTS) == "survey@anywhere.org"
