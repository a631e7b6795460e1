"""Print a reviewer page to PDF (``<run>.pdf``) with the headless Chromium the static images use.

:func:`print_pdf` runs ``chromium --headless --print-to-pdf`` on the page (a local file, no network: the
background-networking flags keep Chromium's own requests off too), with a virtual-time budget so that the
page's scripts (plotly drawing its figures) finish before it prints.  The window is as wide as an A4 page, so
the figures are drawn at the width they are printed at; the page's print stylesheet (template
``spamits_report``) keeps tables and figures from being split across pages.  The creation and modification
dates Chromium writes are replaced by a fixed date, so the same page gives the same PDF bytes.
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

__all__ = ["PDF_TIMEOUT", "print_pdf", "reproducible_pdf"]

log = logging.getLogger(__name__)

PDF_TIMEOUT = 180.0
"""Seconds one page may take to print before the run fails."""
VIRTUAL_TIME_BUDGET_MS = 30000
"""Virtual milliseconds the page's scripts may run before printing (virtual time: idle waits cost nothing)."""
WINDOW = "794,1123"
"""A4 in CSS pixels: plotly draws each figure at the width it is printed at."""
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw", f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
    f"--window-size={WINDOW}",
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
