"""Respondent pseudonyms: the warehouse never holds a survey tool's respondent id, only a keyed hash of it.

The same id under the same key always gives the same pseudonym, so a corrected re-delivery of a wave
keeps each respondent's identity, while nobody without the key can go back from the pseudonym to the
id (or guess it by hashing candidate ids, as an unkeyed hash would allow). The key comes from the
settings (``$SURVEY_RESPONDENT_KEY``, read once by ``home.settings``) or, when they have none, from a
random key created once under the survey home and readable by its owner only.

It lives beside its SQL twin, the ``keyed_pseudonym`` macro of ``warehouse/sql/schema.sql``, which
computes the same pseudonyms inside DuckDB. What does not belong here: where the key comes from (the
settings, ``home.settings``, read once at the entry points) or anything else about a respondent.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from home.settings import MIN_RESPONDENT_KEY_BYTES

PSEUDONYM_HEX_CHARS = 24  # 96 bits: no collision in any realistic survey


class Pseudonymiser:
    def __init__(self, key: bytes):
        if len(key) < MIN_RESPONDENT_KEY_BYTES:
            raise ValueError(f"a respondent key needs at least {MIN_RESPONDENT_KEY_BYTES} bytes")
        self._key = key

    def __call__(self, survey_id: str, respondent_id: str | None) -> str | None:
        if respondent_id is None or respondent_id != respondent_id:
            return None
        message = f"{survey_id}\x1f{respondent_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]

    @property
    def fingerprint(self) -> str:
        """Names the key without revealing it: an HMAC of a fixed text, stored with each load so that a load
        under another key (new pseudonyms beside the earlier waves' old ones) can be refused."""
        return hmac.new(self._key, b"respondent key fingerprint", hashlib.sha256).hexdigest()[:16]

    def pads(self) -> tuple[bytes, bytes]:
        """The key's inner and outer HMAC-SHA256 pads, for the warehouse's ``keyed_pseudonym`` macro, which
        computes the same pseudonyms in SQL (the key itself is never passed to the database)."""
        block = 64  # SHA-256's block size
        key = hashlib.sha256(self._key).digest() if len(self._key) > block else self._key
        key = key.ljust(block, b"\0")
        return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)

    def many(self, survey_id: str, respondent_ids) -> list[str | None]:
        """The pseudonyms of many ids at once (``hmac.digest``'s one-call path: a million ids in about a
        second); the same values as calling this object on each."""
        key, prefix = self._key, f"{survey_id}\x1f"
        return [None if v is None or v != v else
                hmac.digest(key, (prefix + v).encode(), "sha256").hex()[:PSEUDONYM_HEX_CHARS]
                for v in respondent_ids]


def respondent_key(key_file: Path, from_settings: str | None = None) -> bytes:
    """The key the settings give (``SURVEY_RESPONDENT_KEY``), else the one in ``key_file``, created
    (owner-only) on first use."""
    if from_settings:
        return from_settings.encode()
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created by a concurrent run in the meantime: use theirs
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    key = key_file.read_text().strip().encode()
    if len(key) < MIN_RESPONDENT_KEY_BYTES:  # the file's own name: the engineer who edited it must find it
        raise ValueError(f"the respondent key in {key_file} is {len(key)} bytes, and needs at least "
                         f"{MIN_RESPONDENT_KEY_BYTES}: restore the key the earlier waves were loaded with (if no wave "
                         "was loaded yet, remove the file and a new key is made)")
    return key
