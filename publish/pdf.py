"""Printing the brief to PDF with a real engine: headless Chromium, as a reader's browser would print it.

Where no Chromium is installed the pack has no PDF and its manifest says why; the run still succeeds
(the HTML brief prints from any browser). The engine is run without network access to anything but the
brief's own file, with a profile of its own (several runs may print at once).

What does not belong here: the brief's content and layout (``publish.brief``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT_S = 90


class PdfNotMade(RuntimeError):
    """No PDF was printed: no engine, or the engine failed (the message says which)."""


def chromium() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


@functools.cache
def engine_version(executable: str) -> str:
    try:
        return subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip() or Path(executable).name
    except (OSError, subprocess.SubprocessError):
        return Path(executable).name


def print_to_pdf(page: Path, pdf: Path) -> str:
    """Print ``page`` to ``pdf`` (replaced only once the print succeeded); returns the engine's name and version."""
    executable = chromium()
    if executable is None:
        raise PdfNotMade(f"no PDF engine: none of {', '.join(CHROMIUM_NAMES)} is installed")
    partial = pdf.with_name(f".{pdf.name}.partial")
    with tempfile.TemporaryDirectory(prefix="brief-print-") as profile:
        command = [executable, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                   "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}",
                   "--no-pdf-header-footer", f"--print-to-pdf={partial}", page.resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            done = subprocess.run(command, capture_output=True, timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise PdfNotMade(f"{Path(executable).name} did not finish printing in {PRINT_TIMEOUT_S} s") from None
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise PdfNotMade(f"{Path(executable).name} could not print the brief (exit status {done.returncode})")
    partial.replace(pdf)
    return engine_version(executable)
