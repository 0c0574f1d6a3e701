"""Named answer scales and grids: how a codebook writes a scale once and a grid as one block.

A codebook may declare its answer scales by name (``scales: {agree5: {options: [...], positive: [...]}}``)
and write a question ``type: scale, scale: agree5``, adding options of its own after the scale's (a "Don't
know" excluded from the base). A grid (``- grid: {stem: ..., scale: agree5, items: [...]}`` in the
questions) is one stem wording over several statements; each item becomes a question of its own, with its
own id and wording, the grid's scale and the grid's stem, so that every later stage (validation, the load,
indicators, exports) sees questions only.

Both are written out here, on the codebook's raw mapping, before the model validates it: the model then
holds each question complete, and its digest and its rules see exactly what a question is.

What does not belong here: the rules a scale question must meet (``schemas.codebook``), the indicators
made from it (``schemas.indicator_catalogue``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from schemas.strict import Strict

# What a grid item may say for itself; everything else (type, scale, options, positive, required,
# report_section, asked_in/asked_from, asked_if) is the grid's, unless the item overrides it.
GRID_KEYS = frozenset({"id", "stem", "scale", "items", "title", "required", "report_section", "asked_in",
                       "asked_from", "asked_if"})


class ScaleOption(Strict):
    """One point of a named scale, as written in ``scales:`` (checked again as an option of each question)."""

    id: str
    label: str
    score: float | None = None
    aliases: tuple[str, ...] = ()
    short_label: str | None = None
    exclude_from_base: bool = False


class Scale(Strict):
    """A named scale: its ordered options, each with its score, and the options of its positive score."""

    options: tuple[ScaleOption, ...] = Field(min_length=2)
    positive: tuple[str, ...] = ()


def expand_questionnaire(raw: Any) -> Any:
    """The codebook's raw mapping with each grid written out as its item questions and each
    ``scale:`` reference given the scale's options (and its positive options, unless the question names
    its own). Anything malformed is left for the model to refuse with its own message."""
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
        return raw
    scales_raw = raw.get("scales") or {}
    scales = {name: Scale.model_validate(body) for name, body in scales_raw.items()} if isinstance(scales_raw, dict) else {}
    questions = []
    for entry in raw["questions"]:
        if isinstance(entry, dict) and set(entry) == {"grid"}:
            questions += _grid_items(entry["grid"], scales)
        else:
            questions.append(_with_scale(entry, scales))
    return {**raw, "questions": questions}


def _grid_items(grid: Any, scales: dict[str, Scale]) -> list:
    if not isinstance(grid, dict):
        raise ValueError("a grid is a mapping with stem, scale and items")  # noqa: TRY004 - pydantic reports only ValueError
    unknown = sorted(set(grid) - GRID_KEYS)
    if unknown:
        raise ValueError(f"grid {grid.get('id', grid.get('stem', ''))!r} has unknown keys {unknown} "
                         f"(a grid takes {', '.join(sorted(GRID_KEYS))})")
    for key in ("stem", "scale", "items"):
        if not grid.get(key):
            raise ValueError(f"grid {grid.get('id', grid.get('stem', ''))!r} needs {key}")
    shared = {k: v for k, v in grid.items() if k not in {"id", "stem", "items", "title"}}
    items = []
    for item in grid["items"]:
        if not isinstance(item, dict):
            raise ValueError(f"each item of grid {grid['stem']!r} is a mapping with id and wording")  # noqa: TRY004
        question = {"type": "scale", **shared, "grid_stem": grid["stem"], **item}
        question.setdefault("title", item.get("wording", ""))
        items.append(_with_scale(question, scales))
    return items


def _with_scale(question: Any, scales: dict[str, Scale]) -> Any:
    if not isinstance(question, dict) or "scale" not in question:
        return question
    name = question["scale"]
    if name not in scales:
        raise ValueError(f"question {question.get('id')!r} names scale {name!r}, which `scales:` does not declare "
                         f"(declared: {', '.join(scales) or 'none'})")
    scale = scales[name]
    own = list(question.get("options") or [])
    options = [o.model_dump(exclude_defaults=True) for o in scale.options] + own
    return {**question, "options": options, "positive": question.get("positive", list(scale.positive))}
