"""Deterministic generator of SYNTHETIC survey waves in the plain CSV layout, for any codebook and size.

Three modes, one code path, chosen per question by a targets file (``sample_data/targets/``):
- calibrated: exact answer counts per option (``counts``), used for the board survey so that wave 2023
  reproduces the published report's figures;
- shares: each answer drawn with the option's share (``shares``; a multiple-choice option's share of
  respondents ticking it) and numbers drawn around a mean (``numbers``), used for the staff pulse, whose
  waves move plausibly and are calibrated to nothing published;
- random: seeded answer shares drawn per question, for tests and benchmarks at any size.

Answers follow the codebook's rules as a survey tool enforces them: a routed question is blank for those
not routed to it, an exclusive option ("None of these") is ticked alone, a number is whole and in range.

The same seed gives the same bytes. Names and emails are invented from short fixed lists (not a faker
library, whose output changes between releases and would break byte-for-byte regeneration); they exist so
that tests can prove personal data never reaches the warehouse.

What does not belong here: validation, loading, or anything that reads the warehouse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from schemas.codebook import Codebook
from schemas.questions import Question
from schemas.waves import FIELDWORK_TIMEZONE

SAMPLE_DIR = Path(__file__).parent
TARGETS_DIR = SAMPLE_DIR / "targets"
LANDING_DIR = SAMPLE_DIR / "landing"

_FIRST_NAMES = ["Amira", "Ben", "Chloe", "Dev", "Eilidh", "Femi", "Grace", "Hamza", "Isla", "Jonah",
                "Kiran", "Leah", "Mo", "Niamh", "Owen", "Priya", "Rhys", "Sade", "Tom", "Zara"]
_LAST_NAMES = ["Adeyemi", "Brown", "Chen", "Davies", "Evans", "Fraser", "Gupta", "Hughes", "Iqbal",
               "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Quinn", "Roberts"]
_COMMENTS = [
    "Capacity for improvement work is squeezed by operational demand.",
    "We would welcome more peer learning between trusts.",
    "Board development on improvement has been valuable this year.",
    "Shared data across the collaborative remains the main obstacle.",
    "Our improvement faculty has grown but needs sustained funding.",
    "Clinical engagement is strong; middle management capacity is the gap.",
]


@dataclass(frozen=True)
class WaveTargets:
    """What one synthetic wave should look like."""

    seed: int
    respondents: int
    trusts: int
    skip_optional: int = 0
    # The share of the other respondents who leave each optional grid item blank (item non-response), drawn
    # from a stream of its own: every other answer is as it would be without it.
    skip_item: float = 0.0
    comment_share: float = 0.1
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    shares: dict[str, dict[str, float]] = field(default_factory=dict)
    numbers: dict[str, dict[str, float]] = field(default_factory=dict)  # per numeric question: mean and sd
    comments: tuple[str, ...] = tuple(_COMMENTS)  # what free-text answers say, drawn at random


def load_targets(survey_id: str, directory: Path = TARGETS_DIR) -> dict[str, WaveTargets]:
    raw = yaml.safe_load((directory / f"{survey_id}.yaml").read_text(encoding="utf-8"))
    comments = {"comments": tuple(raw["comments"])} if raw.get("comments") else {}  # the survey's, for every wave
    return {str(wave_id): WaveTargets(**spec, **comments) for wave_id, spec in raw["waves"].items()}


def _single_choice(rng, n: int, option_ids: list[str], counts: dict[str, int] | None, what: str,
                   shares: dict[str, float] | None = None):
    """Option ids for n answers: exact counts in random order, drawn with the given shares, or drawn with
    seeded random shares."""
    if counts is None:
        if shares is None:
            p = rng.dirichlet(np.full(len(option_ids), 2.0))
        else:
            _refuse_unknown(shares, option_ids, what)
            p = np.array([shares.get(o, 0.0) for o in option_ids])
            p = p / p.sum()
        return np.asarray(option_ids, dtype=object)[rng.choice(len(option_ids), size=n, p=p)]
    _refuse_unknown(counts, option_ids, what)
    if sum(counts.values()) != n:
        raise ValueError(f"{what}: counts add up to {sum(counts.values())}, the base is {n}")
    answers = np.repeat(np.asarray(list(counts), dtype=object), list(counts.values()))
    return rng.permutation(answers)


def _multiple_choice(rng, n: int, option_ids: list[str], counts: dict[str, int] | None, what: str,
                     shares: dict[str, float] | None = None, exclusive: frozenset[str] = frozenset()):
    """An n × options matrix of ticks in which every respondent ticks at least one option, and an exclusive
    option alone."""
    ticks = np.zeros((n, len(option_ids)), dtype=bool)
    if counts is None:
        draws = rng.random((n, len(option_ids)))
        if shares is not None:
            _refuse_unknown(shares, option_ids, what)
        ticks = draws < (np.array([shares.get(o, 0.0) for o in option_ids]) if shares is not None
                         else rng.uniform(0.1, 0.7, size=len(option_ids)))
        alone = np.array([o in exclusive for o in option_ids])
        if alone.any():  # an exclusive option first; its respondents tick nothing else
            chosen = ticks[:, alone].any(axis=1)
            ticks[np.ix_(chosen, ~alone)] = False
            ticks[np.ix_(~chosen, alone)] = False
        others = np.flatnonzero(~alone)
        empty = np.flatnonzero(~ticks.any(axis=1))
        ticks[empty, others[rng.integers(0, len(others), size=len(empty))]] = True
        return ticks
    _refuse_unknown(counts, option_ids, what)
    for j, option_id in enumerate(option_ids):
        k = counts.get(option_id, 0)
        if k > n:
            raise ValueError(f"{what}: {k} respondents tick {option_id!r}, the base is {n}")
        ticks[rng.permutation(n)[:k], j] = True
    # Give each respondent without a tick one taken from a respondent with two or more: the option
    # counts, which are the calibration, stay exact.
    for row in np.flatnonzero(~ticks.any(axis=1)):
        donors = np.flatnonzero(ticks.sum(axis=1) >= 2)
        if len(donors) == 0:
            raise ValueError(f"{what}: counts too small for every respondent to tick an option")
        donor = donors[rng.integers(len(donors))]
        option = rng.choice(np.flatnonzero(ticks[donor]))
        ticks[donor, option], ticks[row, option] = False, True
    return ticks


def _numbers(rng, n: int, question: Question, target: dict[str, float] | None):
    """n answers to a numeric question: around the target's mean and sd (or a random one), whole where the
    question asks for a whole number, within its bounds, as the text a tool writes ("7", "0.5")."""
    low = question.minimum if question.minimum is not None else 0.0
    high = question.maximum if question.maximum is not None else low + 100
    mean, sd = (target["mean"], target["sd"]) if target else (rng.uniform(low, high), (high - low) / 4)
    values = np.clip(rng.normal(mean, sd, size=n), low, high)
    if question.integer:
        return [str(int(v)) for v in np.rint(values)]
    return [f"{v:.2f}".rstrip("0").rstrip(".") for v in values]


def _refuse_unknown(counts: dict[str, int], option_ids: list[str], what: str) -> None:
    unknown = sorted(set(counts) - set(option_ids))
    if unknown:
        raise ValueError(f"{what}: targets name unknown options {unknown}")


def _trust_per_respondent(rng, n: int, n_trusts: int, trust_codes: list[str]) -> np.ndarray:
    if not 0 < n_trusts <= min(n, len(trust_codes)):
        raise ValueError(f"cannot spread {n} respondents over {n_trusts} of {len(trust_codes)} trusts")
    chosen = rng.choice(np.asarray(sorted(trust_codes), dtype=object), size=n_trusts, replace=False)
    # Every chosen trust has at least one respondent; the rest are spread at random.
    extra = rng.choice(chosen, size=n - n_trusts, replace=True)
    return rng.permutation(np.concatenate([chosen, extra]))


def generate_wave(
    codebook: Codebook, wave_id: str, trust_codes: list[str], targets: WaveTargets, first_respondent: int = 1
) -> pd.DataFrame:
    """One synthetic wave as a frame of text in the plain CSV layout (codebook column order), with the
    questions and options asked in that wave; respondent ids are numbered from ``first_respondent``."""
    codebook = codebook.for_wave(wave_id)
    rng = np.random.default_rng(targets.seed)
    wave = codebook.wave(wave_id)
    n = targets.respondents
    respondent = codebook.respondent
    columns: dict[str, object] = {}

    # Fieldwork dates are days in London: times are drawn between its first midnight and the midnight after
    # its last day there, and written in UTC without an offset (which the pipeline reads as UTC).
    start = pd.Timestamp(wave.fieldwork_start, tz=FIELDWORK_TIMEZONE)
    end = pd.Timestamp(wave.fieldwork_end + dt.timedelta(days=1), tz=FIELDWORK_TIMEZONE)
    offsets = pd.to_timedelta(np.sort(rng.integers(0, int((end - start).total_seconds()), size=n)), unit="s")
    submitted = (start + offsets).tz_convert("UTC").tz_localize(None)
    columns[respondent.id_column] = [f"{wave_id}-{i:06d}" for i in range(first_respondent, first_respondent + n)]
    columns[respondent.submitted_at_column] = submitted.strftime("%Y-%m-%dT%H:%M:%S")
    if respondent.trust is not None:
        columns[respondent.trust.column] = _trust_per_respondent(rng, n, targets.trusts, trust_codes)
    for asked in respondent.fields:
        labels = {o.id: o.label for o in asked.options}
        chosen = _single_choice(rng, n, list(labels), targets.counts.get(asked.column), f"wave {wave_id} {asked.column}",
                                targets.shares.get(asked.column))
        columns[asked.column] = [labels[o] for o in chosen]

    first = rng.choice(_FIRST_NAMES, size=n)
    last = rng.choice(_LAST_NAMES, size=n)
    if "name" in respondent.personal_data:
        columns["name"] = [f"{f} {s}" for f, s in zip(first, last)]
    if "email" in respondent.personal_data:
        columns["email"] = [f"{f}.{s}{i}@trust.example.org".lower() for i, (f, s) in enumerate(zip(first, last), start=first_respondent - 1)]

    skipping = np.zeros(n, dtype=bool)
    skipping[rng.permutation(n)[: targets.skip_optional]] = True
    for question in codebook.questions:
        answering = np.ones(n, dtype=bool) if question.required else ~skipping
        if question.asked_if is not None:  # blank for those the routing did not ask
            route = question.asked_if
            condition = codebook.question(route.question)
            labels = {o.label for o in condition.options if o.id in route.options}
            if condition.type == "multiple":
                routed = np.zeros(n, dtype=bool)
                for option_id in route.options:
                    routed |= np.asarray(columns[condition.option_column(option_id)], dtype=object) == "1"
            else:
                routed = np.isin(np.asarray(columns[condition.id], dtype=object), list(labels))
            answering &= routed
        columns.update(_answers(rng, question, answering, targets, wave_id))
    if targets.skip_item:
        items = np.random.default_rng([targets.seed, 1])
        for question in codebook.questions:
            if question.grid_stem is not None and not question.required:
                cells = np.asarray(columns[question.id], dtype=object)
                cells[items.random(n) < targets.skip_item] = None
                columns[question.id] = cells
    frame = pd.DataFrame(columns)
    return frame[[c for c in codebook.expected_columns if c in frame.columns]]


def _answers(rng, question: Question, answering: np.ndarray, targets: WaveTargets, wave_id: str):
    n, base = len(answering), int(answering.sum())
    what = f"wave {wave_id} question {question.id}"
    counts = targets.counts.get(question.id)
    if question.type == "text":
        wants = answering & (rng.random(n) < targets.comment_share)
        texts = np.full(n, None, dtype=object)
        texts[wants] = rng.choice(list(targets.comments), size=int(wants.sum()))
        return {question.id: texts}
    if question.type == "numeric":
        cells = np.full(n, None, dtype=object)
        cells[answering] = _numbers(rng, base, question, targets.numbers.get(question.id))
        return {question.id: cells}
    option_ids = [o.id for o in question.options]
    shares = targets.shares.get(question.id)
    if question.answer_kind == "single":
        labels = {o.id: o.label for o in question.options}
        cells = np.full(n, None, dtype=object)
        cells[answering] = [labels[o] for o in _single_choice(rng, base, option_ids, counts, what, shares)]
        return {question.id: cells}
    exclusive = frozenset(o.id for o in question.options if o.exclusive)
    ticks = _multiple_choice(rng, base, option_ids, counts, what, shares, exclusive)
    flags = {}
    for j, column in enumerate(question.option_columns):
        cells = np.full(n, None, dtype=object)  # a respondent who skipped the question leaves it blank
        cells[answering] = np.where(ticks[:, j], "1", "0")
        flags[column] = cells
    return flags


def random_targets(respondents: int, trusts: int, seed: int, skip_optional: int = 0) -> WaveTargets:
    """Targets for a wave of any size with answers drawn at random (tests, benchmarks)."""
    return WaveTargets(seed=seed, respondents=respondents, trusts=trusts, skip_optional=skip_optional)


def write_wave_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a wave in the plain CSV layout: UTF-8, no BOM, LF line ends, empty cell for no answer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def write_large_wave_csv(
    codebook: Codebook, wave_id: str, trust_codes: list[str], respondents: int, seed: int, path: Path,
    chunk: int = 100_000,
) -> Path:
    """Write a wave of any size with random answers, ``chunk`` respondents at a time, so that memory does
    not grow with the wave (benchmarks generate waves of millions of respondents this way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", encoding="utf-8", newline="") as out:
        for number, first in enumerate(range(0, respondents, chunk)):
            n = min(chunk, respondents - first)
            targets = random_targets(n, min(n, len(trust_codes)), seed=seed * 100_003 + number)
            frame = generate_wave(codebook, wave_id, trust_codes, targets, first_respondent=first + 1)
            frame.to_csv(out, index=False, header=number == 0, lineterminator="\n")
    partial.replace(path)
    return path


def sample_file_name(survey_id: str, wave_id: str) -> str:
    return f"{survey_id}_{wave_id}_SYNTHETIC.csv"


POPULATION_FILE = "population.csv"


def sample_files(landing_dir: Path = LANDING_DIR) -> list[Path]:
    """Every file of the bundled sample: exports, population files and wave.yaml files."""
    return sorted(p for p in landing_dir.rglob("*") if p.is_file())


def sample_exports(landing_dir: Path = LANDING_DIR) -> list[Path]:
    """The bundled sample's export files, one per wave."""
    return sorted(landing_dir.rglob("*_SYNTHETIC.csv"))


def population_frame(frame: pd.DataFrame, codebook: Codebook, population: dict) -> pd.DataFrame:
    """A synthetic population for a wave of a survey weighted to trust × field cells: every trust of the wave
    by every option of the field, the option's typical headcount (``population['headcounts']``) times a size
    drawn for each trust (seeded), as whole numbers; cells with no respondent are among them."""
    field_column = next(c for c in codebook.weighting.cells if c != "trust_code")
    rng = np.random.default_rng(population["seed"])
    trusts = sorted(frame[codebook.respondent.trust.column].unique())
    sizes = rng.uniform(0.5, 1.6, size=len(trusts))
    return pd.DataFrame(
        [(trust, option, int(round(population["headcounts"][option] * size)))
         for trust, size in zip(trusts, sizes) for option in population["headcounts"]],
        columns=["trust_code", field_column, "headcount"])


def write_bundled_sample(codebook: Codebook, trust_codes: list[str], landing_dir: Path) -> list[Path]:
    """Generate every wave of the survey's targets file into ``landing_dir/<survey_id>/<wave_id>/``, and, for a
    survey weighted to population cells, each wave's population file with a wave.yaml naming it."""
    written = []
    raw = yaml.safe_load((TARGETS_DIR / f"{codebook.survey_id}.yaml").read_text(encoding="utf-8"))
    for wave_id, targets in load_targets(codebook.survey_id).items():
        frame = generate_wave(codebook, wave_id, trust_codes, targets)
        folder = landing_dir / codebook.survey_id / wave_id
        written.append(write_wave_csv(frame, folder / sample_file_name(codebook.survey_id, wave_id)))
        if "population" in raw and codebook.weighting is not None:
            population = population_frame(frame, codebook, {**raw["population"], "seed": targets.seed})
            population.to_csv(folder / POPULATION_FILE, index=False, lineterminator="\n")
            (folder / "wave.yaml").write_text(f"# The population this SYNTHETIC wave is weighted to.\n"
                                              f"population_file: {POPULATION_FILE}\n", encoding="utf-8")
    return written
