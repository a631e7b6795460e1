"""Read the untroubled.org index page and pick, for each month, the archive that holds it.

The archive folder (``http://untroubled.org/spam/``) publishes past years as one archive each, ``YYYY.7z``
(``2008.7z`` holds ``2008/01/...`` to ``2008/12/...``), and recent months as ``YYYY-MM.7z`` until they are rolled
into their year.  So the file names cannot be guessed: :func:`fetch_index` reads the folder's index page once,
:func:`read_index` lists the archives it links to, and :func:`resolve` maps every month asked for to the monthly
archive where one is listed, else to its year's archive, and fails (naming the months and the listed archives)
when neither is listed, before anything is downloaded.

What the parser relies on, and where that was seen (nothing here was checked against the live site):

* The page is a server-generated folder listing whose archives are ``<a href="NAME">`` links, ``NAME`` relative
  to the page.  SpamScope/untroubled-spam-fetcher (Apache-2.0; ``fetcher/commons.py`` ``urls_to_fetch`` at commit
  99e67d8) reads ``http://untroubled.org/spam/`` with BeautifulSoup, takes the first ``<a href>`` of every
  ``<tr>``, joins it to the page URL and drops the first row (the parent link); ``fetcher/fetcher.py`` then takes
  the last rows but one (``[-(2 + months):-1]``), consistent with name order putting ``attachments/`` last;
  ``fetcher/consts.py`` also knows the sub-folder ``http://untroubled.org/spam/attachments/``.  Other public
  scripts download ``https://untroubled.org/spam/{year}.7z`` and ``http://untroubled.org/spam/2023-02.7z``
  directly, one selects the page's links with the pattern ``\\d{4}(-\\d{2})?\\.7z``, and one user mentions
  "the 1997-98 file" (a name that is neither form).
* The table rows have the shape of Apache mod_autoindex with ``HTMLTable`` (httpd.apache.org/docs/2.4/mod/
  mod_autoindex.html; real pages quoted in public code): a header row whose links are sort keys
  (``?C=N;O=D``), a ``[PARENTDIR]`` row linking ``/`` or ``../``, then per entry
  ``<td><a href="x.7z">x.7z</a></td><td align="right">2023-04-16 14:19  </td><td align="right">394K</td>``;
  folders end in ``/``; sizes are rounded, 1024-based (``7.0K``, `` 13K``, ``345M``, ``1.2G``).

What it does *not* rely on: row order, the parent row being first, the table itself (a bare list of links, or
Apache's ``<pre>`` listing with the date and size after each link, are read the same way), the link text (Apache
truncates long names), or the size column (kept as text, for information; sizes are taken from the HTTP
headers when downloading).  Only links to a file directly in the base folder count (not the parent, not
``attachments/``, not other hosts; query strings and fragments are dropped).  Of those, ``YYYY.7z`` (year from
1990) and ``YYYY-MM.7z`` (month 01-12) are archives; any other ``.7z`` name (e.g. a ``1997-98`` style file, or
``2008-13.7z``) is kept in :attr:`ArchiveIndex.unrecognised` and otherwise ignored; other links are ignored.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from spamits import __version__
from spamits.errors import SpamitsError
from spamits.ingest.months import archive_kind, next_month, parse_month

__all__ = ["MAX_INDEX_BYTES", "USER_AGENT", "ArchiveIndex", "FetchError", "ListedArchive", "fetch_index",
           "month_span", "read_index", "resolve"]

USER_AGENT = f"spamits/{__version__} (research; spam-trap archive download)"
MAX_INDEX_BYTES = 8 * 1024 * 1024
"""An index page larger than this (8 MiB) is refused: a folder listing of a few hundred archives is ~100 kB."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?|\d{2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}(?::\d{2})?")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTP]?)$")
_SIZE_FACTORS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_TAIL_STOPS = {"a", "br", "li", "p", "div", "tr", "table", "ul", "ol", "hr"}


class FetchError(SpamitsError, OSError):
    """A download failed: index unreadable, a month no listed archive covers, network failure, HTTP error, not a
    7z archive, too large, or not enough disk space.  The message names the archive (or months) and the URL."""


@dataclass(frozen=True)
class ListedArchive:
    """One archive the index links to.

    ``kind``: ``"year"`` (``YYYY.7z``, ``month`` None) or ``"month"`` (``YYYY-MM.7z``).  ``url``: absolute.
    ``size_text`` / ``modified_text``: the listing's own size (e.g. ``1.2G``, rounded, 1024-based) and date columns
    when it shows them, else None.
    """

    name: str
    url: str
    kind: str
    year: int
    month: int | None = None
    size_text: str | None = None
    modified_text: str | None = None

    @property
    def approx_bytes(self) -> int | None:
        """``size_text`` in bytes (approximate: the listing rounds), None when absent or unreadable."""
        match = _SIZE.match((self.size_text or "").strip())
        if not match:
            return None
        return int(float(match.group(1)) * _SIZE_FACTORS[match.group(2)])


@dataclass(frozen=True)
class ArchiveIndex:
    """The archives an index page lists (sorted by year, a year's archive before its months) and the ``.7z``
    names it lists that are neither ``YYYY.7z`` nor ``YYYY-MM.7z`` (``unrecognised``, in page order)."""

    base_url: str
    archives: tuple[ListedArchive, ...]
    unrecognised: tuple[str, ...] = field(default=())

    def names(self) -> list[str]:
        """Archive file names, in :attr:`archives` order."""
        return [a.name for a in self.archives]

    def get(self, name: str) -> ListedArchive | None:
        """The listed archive called ``name``, or None."""
        return next((a for a in self.archives if a.name == name), None)

    def describe(self) -> str:
        """``2005.7z, 2006.7z, 2007-11.7z`` or ``no YYYY.7z or YYYY-MM.7z archive``."""
        return ", ".join(self.names()) if self.archives else "no YYYY.7z or YYYY-MM.7z archive"


def month_span(months: Iterable[str]) -> str:
    """Months as compact runs without spaces: ``2006-01..2006-12``, ``2006-01..2006-03,2006-05``."""
    keys = sorted({"{:04d}-{:02d}".format(*parse_month(m)) for m in months})
    runs: list[tuple[str, str]] = []
    for key in keys:
        if runs and next_month(runs[-1][1]) == key:
            runs[-1] = (runs[-1][0], key)
        else:
            runs.append((key, key))
    return ",".join(a + (f"..{b}" if b != a else "") for a, b in runs)


class _Links(HTMLParser):
    """Collects ``(href, texts after it in its row, or on its line)`` for every ``<a href>`` of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, list[str]]] = []
        self._row: list[str] | None = None  # texts of the cells of the open <tr>
        self._row_links: list[tuple[str, int]] = []  # (href, index of its cell) in the open row
        self._cell: list[str] | None = None
        self._tail: list[str] | None = None  # text after a link outside any table row, up to the line's end
        self._pending: list[str] | None = None  # that list, until the link's </a>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _TAIL_STOPS:
            self._tail = None
        if tag == "tr":
            self._end_row()
            self._row, self._row_links = [], []
        elif tag in ("td", "th") and self._row is not None:
            self._end_cell()
            self._cell = []
        if tag == "a":
            href = dict(attrs).get("href")
            if href is None:
                return
            if self._row is not None:
                if self._cell is None:  # a link outside any cell: it makes its own
                    self._cell = []
                self._row_links.append((href, len(self._row)))
            else:
                self._pending = []
                self.links.append((href, self._pending))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            if self._pending is not None:
                self._tail, self._pending = self._pending, None
        elif tag in _TAIL_STOPS:
            self._tail = None
        if tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._tail is not None:
            line, newline, _ = data.partition("\n")
            self._tail.append(line)
            if newline:
                self._tail = None

    def close(self) -> None:
        super().close()
        self._end_row()

    def _end_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
        self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is not None:
            for href, cell in self._row_links:
                self.links.append((href, self._row[cell + 1:]))
        self._row, self._row_links = None, []


def _in_folder(href: str, base_url: str) -> tuple[str, str] | None:
    """(file name, absolute URL) when ``href`` names a file directly in the base folder, else None."""
    href = href.strip()
    if not href or href.startswith(("?", "#")):
        return None
    url = urlsplit(urljoin(base_url, href))
    base = urlsplit(base_url)
    if (url.scheme.lower(), url.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        return None
    path, folder = unquote(url.path), unquote(base.path)
    if not path.startswith(folder):
        return None
    name = path[len(folder):]
    if not name or "/" in name or name in (".", ".."):
        return None
    return name, urlunsplit((url.scheme, url.netloc, url.path, "", ""))


def _columns(texts: list[str]) -> tuple[str | None, str | None]:
    """(modified, size) text from the cells (or line) after a link."""
    joined = " ".join(t.replace("\xa0", " ") for t in texts)
    date = _DATE.search(joined)
    modified = date.group(0) if date else None
    rest = joined[date.end():] if date else joined
    size = next((token for token in rest.split() if _SIZE.match(token)), None)
    return modified, size


def read_index(html: str, base_url: str) -> ArchiveIndex:
    """The archives the folder listing ``html`` (fetched from ``base_url``) links to; see the module docstring."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    parser = _Links()
    parser.feed(html)
    parser.close()
    found: dict[str, ListedArchive] = {}
    unrecognised: list[str] = []
    for href, after in parser.links:
        located = _in_folder(href, base)
        if located is None:
            continue
        name, url = located
        if name in found or name in unrecognised:
            continue
        kind = archive_kind(name)
        modified, size = _columns(after)
        if kind is not None:
            found[name] = ListedArchive(name, url, *kind, size, modified)
        elif name.lower().endswith(".7z"):
            unrecognised.append(name)
    archives = sorted(found.values(), key=lambda a: (a.year, a.month or 0))
    return ArchiveIndex(base, tuple(archives), tuple(unrecognised))


def fetch_index(base_url: str, timeout: float = 60.0) -> ArchiveIndex:
    """GET the index page at ``base_url`` (one request) and :func:`read_index` it.

    ``timeout``: seconds a connection may stall.  Raises :class:`FetchError` naming the URL on an HTTP error, a
    network failure or a page larger than :data:`MAX_INDEX_BYTES`.
    """
    base = base_url if base_url.endswith("/") else base_url + "/"
    request = urllib.request.Request(base, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked by caller
            body = response.read(MAX_INDEX_BYTES + 1)
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(f"index page {base}: HTTP {exc.code} {exc.reason}; check --base-url (the folder that lists "
                         f"the YYYY.7z archives) or try again later.") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"network failure reading the index page {base}: {reason}. Check the connection and "
                         f"--base-url, then run the same command again.") from None
    if len(body) > MAX_INDEX_BYTES:
        raise FetchError(f"index page {base}: larger than {MAX_INDEX_BYTES} bytes, not a folder listing; check "
                         f"--base-url.")
    try:
        html = body.decode(charset, errors="replace")
    except LookupError:
        html = body.decode("utf-8", errors="replace")
    return read_index(html, base)


def resolve(months: Iterable[str], index: ArchiveIndex) -> dict[str, list[str]]:
    """Map each archive needed to the months (``YYYY-MM``) it is needed for, in the order first needed.

    A month goes to ``YYYY-MM.7z`` when the index lists it, else to ``YYYY.7z``.  Raises :class:`FetchError`
    naming every month neither covers and the archives the index does list (nothing is downloaded then).
    """
    plan: dict[str, list[str]] = {}
    uncovered: list[str] = []
    for month in months:
        year, number = parse_month(month)
        text = f"{year:04d}-{number:02d}"
        for name in (f"{text}.7z", f"{year:04d}.7z"):
            if index.get(name) is not None:
                plan.setdefault(name, []).append(text)
                break
        else:
            uncovered.append(text)
    if uncovered:
        others = (f" It also links {', '.join(index.unrecognised)}, not named YYYY.7z or YYYY-MM.7z, so not used."
                  if index.unrecognised else "")
        raise FetchError(
            f"no archive listed at {index.base_url} covers {month_span(uncovered)} ({len(uncovered)} month(s): "
            f"neither YYYY-MM.7z nor YYYY.7z is listed). The index lists: {index.describe()}.{others} Nothing was "
            f"downloaded; choose --from/--to within the listed archives or check --base-url.")
    return plan
