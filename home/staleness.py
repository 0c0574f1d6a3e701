"""Which landed waves must be loaded: one answer for the landing sensor, the daily sweep and `survey run`.

A wave is stale when what decides its result (its inputs fingerprint: files, wave.yaml, and the codebook
as it applies to the wave; ``home.landing``) differs from what the latest publication recorded for
it. The publication is read from the warehouse's ``publications`` table, not from Dagster's event log,
so a new Dagster instance does not reload every wave, and a wave that failed (not published) is retried
as soon as any of its inputs changes: a corrected file, a wave.yaml, or a fixed codebook.

What does not belong here: when to ask (the sensor's memory of runs it already requested, the sweep's
schedule) and what to run (``pipelines.runner``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from home.landing import LandedWave, partition_key
from home.settings import SurveyHome

# The codebook digest of a wave whose survey has no codebook: such a wave fails until one is added.
NO_CODEBOOK = "no codebook"


@dataclass(frozen=True)
class StaleWave:
    wave: LandedWave
    codebook_digest: str
    published: str | None  # the fingerprint analysts have; None when the wave was never published

    @cached_property
    def fingerprint(self) -> str:
        """The wave's inputs fingerprint as landed now (its files are read the first time)."""
        return self.wave.inputs_fingerprint(self.codebook_digest)


def codebook_digest(home: SurveyHome, wave: LandedWave) -> str:
    """The digest of the wave's codebook as it applies to the wave; raises ``CodebookError`` or
    ``WaveDeclarationError`` when the home's codebooks cannot be read."""
    codebook = home.codebooks.get(wave.survey_id)
    return codebook.digest_for(wave.wave_id) if codebook is not None else NO_CODEBOOK


def stale_waves(home: SurveyHome, landed: list[LandedWave], published: dict[tuple[str, str], str | None]) -> list[StaleWave]:
    """The landed waves whose inputs differ from those of the latest publication, in the order given.
    A wave never published is stale without its files being read (a large first load need not wait
    for its hash)."""
    stale = []
    for wave in landed:
        candidate = StaleWave(wave, codebook_digest(home, wave), published.get((wave.survey_id, wave.wave_id)))
        if candidate.published is None or candidate.published != candidate.fingerprint:
            stale.append(candidate)
    return stale


def why_loaded_again(wave: StaleWave, loaded_before: bool, in_publication: bool,
                     published_exports: set[tuple[str, str]]) -> str | None:
    """Why a stale wave the warehouse already holds is loaded again, in words for the command's one line about
    it (None for a wave loaded for the first time). ``in_publication``: the wave is in its survey's latest
    publication. (`survey ingest` loads its delivery whatever is published, and says what it replaced.)

    Only the exports' digests are published one by one; the rest of the inputs fingerprint (``home.landing``:
    wave.yaml, population file, codebook, trust reference list, and how a release reads them) is published as one
    hash, so a wave whose exports are unchanged is said to be loaded again for one of those."""
    if not loaded_before:
        return None
    if not in_publication:
        return ("it was loaded but is not in the analysts' warehouse (a step after its load failed, or the "
                "warehouse file has gone)")
    if wave.published is None:
        return "it was published before this release recorded what a wave is loaded from"
    if set(wave.wave.export_digests) != published_exports:
        return "its exports differ from those published"
    return ("its exports are as published, so something else it is loaded from changed: its wave.yaml, population "
            "file, codebook or the trust reference list, or how this release reads them (an upgrade)")


def missing_waves(landed: list[LandedWave], loaded: list[tuple[str, str]]) -> list[str]:
    """Partition keys of waves the warehouse holds whose landing folder (or every file in it) is gone."""
    present = {w.partition_key for w in landed}
    return [partition_key(*wave) for wave in loaded if partition_key(*wave) not in present]
