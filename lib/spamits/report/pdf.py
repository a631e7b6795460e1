"""Print a reviewer page to PDF (``<run>.pdf``) with the headless Chromium the static images use.

:func:`print_pdf` runs ``chromium --headless --print-to-pdf`` on the page (a local file, no network: the
background-networking flags keep Chromium's own requests off too), with a virtual-time budget so that the
page's scripts (plotly drawing its figures) finish before it prints.  The window is as wide as an A4 page, so
the figures are drawn at the width they are printed at; the page's print stylesheet (template
``spamits_report``) keeps tables and figures from being split across pages.  The creation and modification
dates Chromium writes are replaced by a fixed date, so the same page gives the same PDF bytes.  The PDF has
bookmarks made from the page's headings; :func:`pdf_outline` and :func:`pdf_page_count` read them back without
a PDF library (for checks of a built report).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from spamits._atomic import write_atomic
from spamits.errors import ReportError

__all__ = ["PDF_TIMEOUT", "pdf_outline", "pdf_page_count", "print_pdf", "reproducible_pdf"]

log = logging.getLogger(__name__)

PDF_TIMEOUT = 180.0
"""Seconds one page may take to print before the run fails."""
VIRTUAL_TIME_BUDGET_MS = 30000
"""Virtual milliseconds the page's scripts may run before printing (virtual time: idle waits cost nothing)."""
WINDOW = "718,1123"
"""The printable width of A4 with 10 mm side margins (190 mm) in CSS pixels, so plotly draws each figure at the
width it is printed at (a figure drawn wider would be cut at the right edge)."""
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw", "--generate-pdf-document-outline",
    f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}", f"--window-size={WINDOW}",
)
FIXED_DATE = b"D:19700101000000+00'00'"
_DATE_RE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[^)]{0,8}\)")


def print_pdf(page: Path, target: Path, *, chromium: str | None = None, timeout: float = PDF_TIMEOUT) -> Path:
    """Print the HTML file ``page`` to ``target`` (written atomically); return ``target``.

    ``chromium``: the executable (default: the one kaleido finds, :func:`spamits.report.notebook.chromium_path`).
    Raises :class:`ReportError` when no Chromium is found, it fails or times out, or it writes no PDF.
    """
    if chromium is None:
        from spamits.report.notebook import chromium_path

        chromium = chromium_path()
    if chromium is None:
        raise ReportError("printing a report to PDF needs Chrome or Chromium and none was found: run `make browser` "
                          "(Debian: apt-get install chromium) or set BROWSER_PATH")
    with tempfile.TemporaryDirectory(prefix="spamits-pdf-") as tmp:
        profile, out = Path(tmp) / "profile", Path(tmp) / "page.pdf"
        command = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}",
                   Path(page).resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ReportError(f"{page}: printing to PDF took more than {timeout:.0f} s") from None
        except OSError as exc:
            raise ReportError(f"{page}: cannot start {chromium} to print the PDF: {exc}") from None
        if not out.is_file() or out.stat().st_size == 0:
            tail = " / ".join(done.stderr.strip().splitlines()[-3:])
            raise ReportError(f"{page}: {Path(chromium).name} wrote no PDF (exit code {done.returncode}): {tail}")
        write_atomic(target, reproducible_pdf(out.read_bytes()))
        shutil.rmtree(profile, ignore_errors=True)
    log.debug("printed %s to %s", page, target)
    return target


def reproducible_pdf(data: bytes) -> bytes:
    """``data`` with its creation and modification dates set to :data:`FIXED_DATE`, same length (the
    cross-reference table's byte offsets stay valid).  A date of another length is left as it is."""

    def fixed(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        replacement = b"/" + match.group(1) + b" (" + FIXED_DATE + b")"
        return replacement if len(replacement) == len(text) else text

    return _DATE_RE.sub(fixed, data)


_PAGE_RE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_OUTLINE_TITLE_RE = re.compile(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def pdf_page_count(data: bytes) -> int:
    """Number of page objects in a PDF as Chromium writes it (no object streams)."""
    return len(_PAGE_RE.findall(data))


def pdf_outline(data: bytes) -> list[str]:
    """The document title and the bookmark titles of a PDF as Chromium writes it (objects not compressed), in
    file order: the page's ``<title>`` and then its headings."""
    return [_pdf_string(match.group(1)) for match in _OUTLINE_TITLE_RE.finditer(data)]


def _pdf_string(token: bytes) -> str:
    """Decode a PDF string token: ``(literal)`` with escapes or ``<hex>``; UTF-16BE when it starts with a BOM."""
    if token.startswith(b"<"):
        raw = bytes.fromhex(re.sub(rb"\s", b"", token[1:-1]).decode("ascii"))
    else:
        body, raw, i = token[1:-1], bytearray(), 0
        while i < len(body):
            char = body[i:i + 1]
            if char == b"\\" and i + 1 < len(body):
                octal = re.match(rb"[0-7]{1,3}", body[i + 1:i + 4])
                if octal:
                    raw.append(int(octal.group(0), 8) & 0xFF)
                    i += 1 + len(octal.group(0))
                    continue
                raw += _ESCAPES.get(body[i + 1:i + 2], b"")
                i += 2
                continue
            raw += char
            i += 1
        raw = bytes(raw)
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")
