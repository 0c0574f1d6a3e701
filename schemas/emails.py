"""Which emails identify a person: the rule by which a resubmission is matched on its email.

Survey tools fill the email of someone who gave none with a placeholder (Microsoft Forms writes
``anonymous``; people type ``n/a``, ``none``, ``-``; tools send from ``noreply@...``). Matching on those
would make different people one respondent and quarantine all but one of them as superseded. So only a
plausible email identifies a person: a local part, an ``@`` and a domain with a dot, compared ignoring
case and surrounding or repeated spaces, and not a placeholder. A placeholder is a whole value
(``n/a``) or a local part with any domain (``noreply@``); a codebook adds its own
(``respondent.placeholder_emails``) to the defaults below.

The key itself is computed in SQL, where the wave's emails are (``validation/sql/text_macros.sql``:
``email_fold`` and ``folded_email_key``), over the distinct emails of a wave, a million in under a second.
Case is ignored as DuckDB's ``lower()`` does (Unicode lower case; ``ß`` and ``ss`` stay two spellings, as
mail systems treat them).
What does not belong here: computing keys, and finding the superseded submissions (``validation.rules``
and its SQL).
"""

from __future__ import annotations

from collections.abc import Iterable

PLACEHOLDER_EMAILS = (
    "n/a", "na", "none", "nil", "null", "no", "-", "--", ".", "x", "unknown", "anonymous", "not given",
    "test@", "noreply@", "no-reply@", "no.reply@", "donotreply@", "do-not-reply@", "do.not.reply@",
    "nobody@", "none@", "anonymous@", "unknown@", "email@", "name@", "user@",
)


def placeholders(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The defaults and a codebook's own placeholders (folded with the emails, where they are compared)."""
    return (*PLACEHOLDER_EMAILS, *extra)
