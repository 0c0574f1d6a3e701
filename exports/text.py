"""How a text export's bytes become text: the encoding decided on evidence, and said.

Survey tools write UTF-8 (with or without a BOM) or, saved again from Excel on many NHS machines,
Windows-1252; some write UTF-16 with a BOM. One invalid byte must not turn a UTF-8 file into
Windows-1252 whole (every accented character of the file garbled), and a Windows-1252 file must not be
read as UTF-8 with its accented rows refused. The evidence is the file's own bytes:

- a UTF-16 BOM: UTF-16;
- valid UTF-8 throughout: UTF-8;
- valid multi-byte UTF-8 characters beside a few invalid bytes: UTF-8, the rows holding invalid bytes
  quarantined (rule ``encoding``) when they are at most ``ReadLimits.encoding_error_rows`` rows or
  ``encoding_error_share`` of the rows, whichever is more; beyond that Windows-1252 if it decodes the
  file, else the file is refused;
- no valid multi-byte UTF-8 character: Windows-1252 if it decodes the file, else UTF-8 with those rows
  quarantined within the same limits, else refused.

Invalid bytes are kept as Python's ``surrogateescape`` code points (U+DC80..U+DCFF), which no decoded
text can hold otherwise, so the grid finds their rows after parsing (``exports.grid``). What does not
belong here: splitting text into rows (``exports.grid``), binary formats.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from exports.base import ReadLimits, WaveFileRejected

UTF8, UTF8_BOM, UTF16, WINDOWS_1252 = "UTF-8", "UTF-8 with BOM", "UTF-16", "Windows-1252"
UNDECODABLE = re.compile("[\udc80-\udcff]")
_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")


@dataclass(frozen=True)
class Text:
    text: str
    encoding: str
    undecodable_lines: int = 0  # lines holding bytes that are not UTF-8, their rows quarantined


def decode_text(path: Path, data: bytes, limits: ReadLimits | None = None) -> Text:
    limits = limits or ReadLimits()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Text(data.decode("utf-16"), UTF16)
        except UnicodeDecodeError as exc:
            raise WaveFileRejected(path, f"the file begins as UTF-16 text but is not (byte {exc.start})") from None
    if b"\x00" in data[:4096]:
        raise WaveFileRejected(path, "the file is binary, not a text export")
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        return Text(data.decode("utf-8-sig"), UTF8_BOM if bom else UTF8)
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8-sig", errors="surrogateescape")
    lines = text.count("\n") + (not text.endswith("\n"))
    allowed = max(limits.encoding_error_rows, int(limits.encoding_error_share * lines))
    bad_lines = _lines_with_undecodable_bytes(text, stop_after=allowed)
    as_utf8 = Text(text, UTF8_BOM if bom else UTF8, bad_lines) if bad_lines <= allowed else None
    if as_utf8 is not None and _MULTIBYTE.search(text):
        return as_utf8
    try:
        return Text(data.decode("cp1252"), WINDOWS_1252)
    except UnicodeDecodeError as exc:
        if as_utf8 is not None:
            return as_utf8
        raise WaveFileRejected(
            path, f"the file is neither UTF-8 (more than {allowed:,} of its {lines:,} lines hold bytes that are not "
            f"UTF-8, the most a file may have) nor Windows-1252 text (byte {exc.start})") from None


def _lines_with_undecodable_bytes(text: str, stop_after: int) -> int:
    """The lines holding invalid bytes, counted in one pass (a Windows-1252 file has one on every accented
    line), stopping once past ``stop_after``: beyond it, how many more does not change the decision."""
    lines, line, position = set(), 0, 0
    for match in UNDECODABLE.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        lines.add(line)
        if len(lines) > stop_after:
            break
    return len(lines)


def readable(cell: str) -> str:
    """A cell holding invalid bytes as valid text, each byte shown as ``\\xNN``: for the private working
    database only (a refused value)."""
    return cell.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
