"""Files still being copied into the landing folder: not read until they settle.

A copy in progress shows as a file whose size or modification time keeps changing. Whether a file is
open for writing cannot be seen on a network volume, and such a volume's clock may differ from this
machine's, so a file has settled when its own modification time is ``seconds`` old, or when this machine
has seen its size and modification time unchanged for ``seconds``.

What does not belong here: finding the landed waves (``home.landing``), what the sensor or `survey run`
do with a wave whose files have not settled (``pipelines``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path


def unsettled(files: Iterable[Path], seconds: float, seen: dict[str, list], now: float | None = None) -> list[Path]:
    """The files that have not settled. ``seen`` maps a path to ``[size, mtime_ns, first seen at]`` (this
    machine's clock, in seconds) and is updated in place: kept between looks, it is what tells a file
    that stopped changing from one still being written."""
    now = time.time() if now is None else now
    waiting = []
    for path in files:
        stat = path.stat()
        state = [stat.st_size, stat.st_mtime_ns]
        if seen.get(str(path), [None, None])[:2] != state:
            seen[str(path)] = [*state, now]
        unchanged_for = now - seen[str(path)][2]
        if now - stat.st_mtime < seconds and unchanged_for < seconds:
            waiting.append(path)
    return waiting
