"""Printing the brief to PDF with a real engine: headless Chromium, as a reader's browser would print it.

Where no Chromium is installed the pack has no PDF and its manifest says why; the run still succeeds
(the HTML brief prints from any browser). The engine resolves no host name (the brief needs none: its
charts and styles are inline), runs with a profile of its own, and prints to a file of its own before the
result replaces ``brief.pdf`` (several runs may print at once).

What does not belong here: the brief's content and layout (``publish.brief``).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
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
    name = Path(executable).name
    with tempfile.TemporaryDirectory(prefix="brief-print-") as work:
        partial = Path(work) / "brief.pdf"
        command = [executable, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                   "--disable-extensions", "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND",
                   f"--user-data-dir={Path(work) / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={partial}",
                   page.resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            # A session of its own, so that a print that hangs is stopped with every process it started.
            engine = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True)
        except OSError as exc:
            raise PdfNotMade(f"{name} could not be started: {exc.strerror or exc}") from None
        try:
            status = engine.wait(timeout=PRINT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(engine.pid, signal.SIGKILL)
            engine.wait()
            raise PdfNotMade(f"{name} did not finish printing in {PRINT_TIMEOUT_S} s") from None
        if status != 0 or not partial.is_file() or partial.stat().st_size == 0:
            raise PdfNotMade(f"{name} could not print the brief (exit status {status})")
        beside = pdf.with_name(f".{pdf.name}.{os.getpid()}")  # on the pack's own file system, then renamed
        try:
            shutil.move(partial, beside)
            beside.replace(pdf)  # whole, or not at all
        except OSError as exc:
            beside.unlink(missing_ok=True)
            raise PdfNotMade(f"the printed brief could not be saved: {exc.strerror or exc}") from None
    return engine_version(executable)
