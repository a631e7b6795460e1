"""A stand-in for http://untroubled.org/spam/ built from the real fixture messages, served on 127.0.0.1.

:func:`build_site` writes 7z archives in the real layout (``YYYY.7z`` holding ``YYYY/MM/<name>`` for a whole
year, ``YYYY-MM.7z`` holding one month's folder, which may overlap its year) from ``tests/fixtures/untroubled``
and an ``index.html`` shaped like the Apache mod_autoindex (HTMLTable) listing people's fetchers read: header
row, parent-directory row first, one row per archive with date and human size, an ``attachments/`` folder row.
:class:`SiteServer` serves ``/spam/`` as that page and ``/spam/<file>`` with Range support (it extends
:class:`ingest_support.LoopbackServer`, which keeps its behaviour).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import py7zr

from ingest_support import LoopbackServer

FIXTURES = Path(__file__).parent / "fixtures" / "untroubled"
INDEX = "index.html"


def fixture_months(root: Path = FIXTURES) -> dict[str, list[Path]]:
    """``{"YYYY-MM": [message files, sorted]}`` of the fixture tree ``root/YYYY/MM/<name>``."""
    out: dict[str, list[Path]] = {}
    for file in sorted(root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/*")):
        if file.is_file():
            out.setdefault(f"{file.parent.parent.name}-{file.parent.name}", []).append(file)
    return out


def apache_size(count: int) -> str:
    """A size as mod_autoindex prints it (1024-based, rounded): ``512``, ``7.0K``, `` 13K``, ``345M``, ``1.2G``."""
    if count < 973:
        return f"{count:3d} "
    value = float(count)
    for unit in "KMGT":
        value /= 1024
        if value < 9.95:
            return f"{value:.1f}{unit}"
        if value < 1000 or unit == "T":
            return f"{value:3.0f}{unit}"
    raise AssertionError("unreachable")


def index_page(rows: Iterable[tuple[str, float | None, int | None]], path: str = "/spam/") -> str:
    """An Apache 2.4 mod_autoindex HTMLTable page listing ``(name, mtime or None, size or None)`` rows in order;
    names ending in ``/`` are folders.  The parent-directory row comes first, as on the real pages."""
    out = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">',
        "<html>", " <head>", f"  <title>Index of {path.rstrip('/')}</title>", " </head>", " <body>",
        f"<h1>Index of {path.rstrip('/')}</h1>", "  <table>",
        '   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th>'
        '<th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th>'
        '<th><a href="?C=D;O=A">Description</a></th></tr>',
        '   <tr><th colspan="5"><hr></th></tr>',
        '<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a>'
        '</td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>',
    ]
    for name, mtime, size in rows:
        folder = name.endswith("/")
        icon, alt = ("folder.gif", "[DIR]") if folder else ("compressed.gif", "[   ]")
        when = dt.datetime.fromtimestamp(mtime, dt.UTC).strftime("%Y-%m-%d %H:%M") if mtime is not None else ""
        shown = "  - " if folder or size is None else apache_size(size)
        ref = html.escape(name, quote=True)
        out.append(f'<tr><td valign="top"><img src="/icons/{icon}" alt="{alt}"></td><td><a href="{ref}">{ref}</a>'
                   f'</td><td align="right">{when}  </td><td align="right">{shown}</td><td>&nbsp;</td></tr>')
    out += ['   <tr><th colspan="5"><hr></th></tr>', "</table>",
            "<address>Apache/2.4.62 (Debian) Server at 127.0.0.1 Port 80</address>", "</body></html>", ""]
    return "\n".join(out)


def _write_archive(path: Path, months: list[str], messages: dict[str, list[Path]], root: Path) -> list[str]:
    """A solid LZMA2 7z with the folders ``YYYY``, ``YYYY/MM`` and the files ``YYYY/MM/<name>``; returns the
    file entry names."""
    entries: list[str] = []
    with py7zr.SevenZipFile(path, "w") as archive:
        years = sorted({m[:4] for m in months})
        for year in years:
            archive.write(root / year, year)
        for month in months:
            year, number = month.split("-")
            archive.write(root / year / number, f"{year}/{number}")
            for file in messages[month]:
                name = f"{year}/{number}/{file.name}"
                archive.write(file, name)
                entries.append(name)
    return entries


def build_site(folder: Path, *, yearly: Iterable[int] = (), monthly: Iterable[str] = (),
               messages_root: Path = FIXTURES, extra_rows: Iterable[tuple[str, int | None]] = ()) -> dict:
    """Write ``YYYY.7z`` for each year of ``yearly`` and ``YYYY-MM.7z`` for each of ``monthly`` (from the messages
    under ``messages_root``), plus ``index.html`` listing them, into ``folder``.

    ``extra_rows``: more ``(name, size)`` rows for the index only (no file behind them), e.g. ``1997-98.7z``.
    Returns ``{"index": Path, "archives": {name: Path}, "entries": {name: [entry names]}, "months": {name: [YYYY-MM
    holding messages]}}``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    messages = fixture_months(messages_root)
    archives: dict[str, Path] = {}
    entries: dict[str, list[str]] = {}
    months: dict[str, list[str]] = {}
    for year in yearly:
        held = [m for m in messages if m.startswith(f"{year:04d}-")]
        assert held, f"no fixture message in {year}"
        name = f"{year:04d}.7z"
        entries[name] = _write_archive(folder / name, held, messages, messages_root)
        archives[name], months[name] = folder / name, held
    for month in monthly:
        assert month in messages, f"no fixture message in {month}"
        name = f"{month}.7z"
        entries[name] = _write_archive(folder / name, [month], messages, messages_root)
        archives[name], months[name] = folder / name, [month]
    rows = [(name, path.stat().st_mtime, path.stat().st_size) for name, path in archives.items()]
    rows += [(name, None, size) for name, size in extra_rows]
    rows.append(("attachments/", dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC).timestamp(), None))
    rows.sort(key=lambda row: row[0])  # Apache's default order: by name (digits before letters)
    index = folder / INDEX
    index.write_text(index_page(rows), encoding="utf-8")
    return {"index": index, "archives": archives, "entries": entries, "months": months}


class SiteServer(LoopbackServer):
    """:class:`LoopbackServer` that also answers ``/spam/`` with ``root/index.html`` (text/html).

    ``no_length``: names served without Content-Length (the body ends when the connection closes), to test a
    server that does not declare sizes.  ``wrong_range``: names whose Range requests are answered 206 from byte 0
    (a Content-Range the client did not ask for).  ``requests`` logs every GET, the index page's included.
    """

    def __init__(self, root: Path, cut_once: Iterable[str] = (), no_length: Iterable[str] = (),
                 wrong_range: Iterable[str] = ()) -> None:
        super().__init__(root, cut_once)
        self.no_length = set(no_length)
        self.wrong_range = set(wrong_range)

    def archive_gets(self) -> list[tuple[str, str | None]]:
        """The requests for anything but the index page."""
        return [(path, rng) for path, rng in self.requests if path != "/spam/"]

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path == "/spam/":
            body = (self.root / INDEX).read_bytes()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html;charset=UTF-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        name = handler.path.rsplit("/", 1)[-1]
        if name in self.no_length and handler.path.startswith("/spam/") and (self.root / name).is_file():
            data = (self.root / name).read_bytes()
            handler.send_response(200)
            handler.end_headers()
            handler.wfile.write(data)
            handler.close_connection = True
            return
        if name in self.wrong_range and handler.headers.get("Range") and (self.root / name).is_file():
            data = (self.root / name).read_bytes()
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes 0-{len(data) - 1}/{len(data)}")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        super().serve(handler)


NOT_BY_RECEIVED = {"2000/10/970979910.12652_3.txt": "date"}
"""The one fixture whose top Received: line carries no date ('(listrecv, mailbox ... opened at ...)')."""


def expected_arrival(path: Path) -> tuple[float, str]:
    """(seconds since 1970 UTC, rule) of a fixture message, computed without spamits: Python's email parser reads
    the headers, the first ``Received:`` header's date after ``;`` (else ``Date:``) is parsed by email.utils."""
    import email.parser
    import email.utils

    raw = path.read_bytes().replace(b"\r", b"")  # one real message has a stray CR inside its Return-Path:
    message = email.parser.BytesParser().parsebytes(raw, headersonly=True)
    top = str(message.get_all("Received")[0])
    if ";" in top:
        return email.utils.parsedate_to_datetime(top.rpartition(";")[2].strip()).timestamp(), "received"
    return email.utils.parsedate_to_datetime(str(message["Date"])).timestamp(), "date"


def redate(raw: bytes, arrived: float) -> bytes | None:
    """A real fixture message moved in time: the date of its top ``Received:`` line (the trap's own stamp, after
    its last ``;``) set to ``arrived`` and its ``Date:`` to two minutes before; None when the top ``Received:``
    line carries no date (the message could not be re-dated the way the trap would have stamped it)."""
    import email.utils
    import re

    head, sep, body = raw.partition(b"\n\n")
    top = re.search(rb"(?m)^Received:[^\n]*(?:\n[ \t][^\n]*)*", head)
    if top is None or b";" not in top.group(0):
        return None
    stamp = email.utils.formatdate(arrived, usegmt=True).encode()
    received = top.group(0).rpartition(b";")[0] + b"; " + stamp
    head = head[:top.start()] + received + head[top.end():]
    date = email.utils.formatdate(arrived - 120, usegmt=True).encode()
    head, found = re.subn(rb"(?mi)^Date:[^\n]*(?:\n[ \t][^\n]*)*", lambda _: b"Date: " + date, head, count=1)
    return head + sep + body
