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
from collections.abc import Callable
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


class BriefPrint:
    """A print of the brief by headless Chromium, started at once and finished later, so that the rest of
    the pack is written while Chromium starts and prints (its start-up is most of the print's 2 s).

    Use as a context manager: ``finish()`` waits for the print and returns the engine's name and version,
    or raises ``PdfNotMade``; leaving the block stops a print still running and removes its files.
    """

    def __init__(self, page: Path, pdf: Path):
        self.pdf, self._engine, self._error = pdf, None, None
        self._executable = chromium()
        self._work = Path(tempfile.mkdtemp(prefix="brief-print-"))
        self._partial = self._work / "brief.pdf"
        if self._executable is None:
            self._error = f"no PDF engine: none of {', '.join(CHROMIUM_NAMES)} is installed"
            return
        command = [self._executable, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                   "--disable-extensions", "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND",
                   f"--user-data-dir={self._work / 'profile'}", "--no-pdf-header-footer",
                   f"--print-to-pdf={self._partial}", page.resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            # A session of its own, so that a print that hangs is stopped with every process it started.
            self._engine = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            start_new_session=True)
        except OSError as exc:
            self._error = f"{self.name} could not be started: {exc.strerror or exc}"

    @property
    def name(self) -> str:
        return Path(self._executable).name if self._executable else "no engine"

    def finish(self) -> str:
        """Wait for the print and put it in place as ``pdf`` (replaced only once the print succeeded)."""
        if self._error:
            raise PdfNotMade(self._error)
        try:
            status = self._engine.wait(timeout=PRINT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfNotMade(f"{self.name} did not finish printing in {PRINT_TIMEOUT_S} s") from None
        if status != 0 or not self._partial.is_file() or self._partial.stat().st_size == 0:
            raise PdfNotMade(f"{self.name} could not print {self.pdf.name} (exit status {status})")
        beside = self.pdf.with_name(f".{self.pdf.name}.{os.getpid()}")  # on the pack's file system, then renamed
        try:
            shutil.move(self._partial, beside)
            beside.replace(self.pdf)  # whole, or not at all
        except OSError as exc:
            beside.unlink(missing_ok=True)
            raise PdfNotMade(f"the printed {self.pdf.name} could not be saved: {exc.strerror or exc}") from None
        return engine_version(self._executable)

    def __enter__(self) -> BriefPrint:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._engine is not None and self._engine.poll() is None:
            os.killpg(self._engine.pid, signal.SIGKILL)
            self._engine.wait()
        shutil.rmtree(self._work, ignore_errors=True)


def page_count(pdf: Path) -> int:
    """The pages of a printed PDF."""
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def print_to_pdf(page: Path, pdf: Path) -> str:
    """Print ``page`` to ``pdf`` and wait for it; returns the engine's name and version."""
    with BriefPrint(page, pdf) as printing:
        return printing.finish()


# The print scales tried, in turn, when the brief runs over its page (many figures with a significant change, whose
# sentences grow): at the last, its 8.6 pt type prints at 6 pt, the least that reads on paper.
FIT_SCALES = (0.9, 0.8, 0.7)


def fit_to_one_page(write_page: Callable[[float], None], page: Path, pdf: Path) -> dict:
    """Where ``pdf`` (printed from ``page``) runs over one page, write the page again at each of ``FIT_SCALES`` in
    turn (``write_page(scale)``) and print it again, until it fits; returns its pages and the scale printed at."""
    scale, pages = 1.0, page_count(pdf)
    for smaller in FIT_SCALES:
        if pages <= 1:
            break
        write_page(smaller)
        try:
            print_to_pdf(page, pdf)  # replaces the PDF only once printed whole
        except PdfNotMade:
            break  # the longer print stays, said by its page count
        scale, pages = smaller, page_count(pdf)
    return {"pages": pages, "print_scale": scale}
