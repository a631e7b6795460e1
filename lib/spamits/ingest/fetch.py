"""Download the monthly untroubled.org spam-trap archives (``YYYY-MM.7z``), resumably and politely.

:func:`fetch_untroubled` downloads ``<base_url>/<YYYY-MM>.7z`` for each month into ``dest`` (default
``data/raw/untroubled``, git-ignored).  A download goes to ``<YYYY-MM>.7z.part`` and is resumed with an HTTP
``Range`` request when that file exists; the finished file is checked (size, 7z signature), hashed (SHA-256) and
renamed into place, and recorded in ``dest/fetch_log.json``.  Requests are spaced at least ``rate`` seconds
apart.  A month the server does not have (HTTP 404) is reported and skipped; any other HTTP error or a network
failure raises :class:`FetchError` naming the month and URL, keeping the partial file for the next run.

This module prints nothing: progress goes to an optional callback ``progress(name, done_bytes, total_bytes)``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spamits import __version__, paths
from spamits._atomic import write_atomic
from spamits.errors import DataValidationError, SpamitsError

__all__ = ["DEFAULT_BASE_URL", "FETCH_LOG", "FetchError", "FetchResult", "default_dest", "fetch_untroubled",
           "month_range", "read_fetch_log"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://untroubled.org/spam/"
FETCH_LOG = "fetch_log.json"
SEVEN_ZIP_SIGNATURE = b"7z\xbc\xaf\x27\x1c"
MAX_ARCHIVE_BYTES = 8 * 1024**3
"""A server declaring a larger archive (8 GiB) is refused; the real monthly archives are far smaller."""
MAX_MONTHS = 600
_BLOCK = 1 << 16
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
USER_AGENT = f"spamits/{__version__} (research; monthly archive download)"

Progress = Callable[[str, int, int | None], None]


class FetchError(SpamitsError, OSError):
    """A download failed (network failure, HTTP error, or not a 7z archive); the message names month and URL."""


@dataclass
class FetchResult:
    """What happened to one month: ``status`` is ``fetched``, ``resumed``, ``present`` or ``missing``."""

    month: str
    url: str
    path: str
    status: str
    sha256: str | None = None
    bytes: int | None = None


def default_dest() -> Path:
    """``data/raw/untroubled`` under the data folder."""
    return paths.data_dir() / "raw" / "untroubled"


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM`` strings."""
    first, last = _month(start, "--from"), _month(end, "--to")
    if last < first:
        raise DataValidationError(f"--to {end} is before --from {start}; give the months oldest first.")
    count = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
    if count > MAX_MONTHS:
        raise DataValidationError(f"{start} to {end} is {count} months; fetch at most {MAX_MONTHS} at once.")
    year, month = first
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _month(text: str, option: str) -> tuple[int, int]:
    match = _MONTH.match(str(text))
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1990:
        raise DataValidationError(f"{option} {text!r}: write a month as YYYY-MM, e.g. 2008-11.")
    return int(match.group(1)), int(match.group(2))


def read_fetch_log(dest: str | os.PathLike) -> dict:
    """The fetch log of a download folder (``{"archives": {name: {...}}}``), empty when there is none."""
    path = Path(dest) / FETCH_LOG
    if not path.is_file():
        return {"archives": {}}
    try:
        log = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: not valid JSON ({exc}); delete it and fetch again.") from None
    if not isinstance(log, dict) or not isinstance(log.get("archives"), dict):
        raise DataValidationError(f"{path}: expected an object with an 'archives' mapping; delete it and fetch "
                                  f"again.")
    return log


def _write_json(path: Path, obj: dict) -> None:
    write_atomic(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def fetch_untroubled(
    months: list[str],
    *,
    dest: str | os.PathLike | None = None,
    base_url: str = DEFAULT_BASE_URL,
    rate: float = 2.0,
    timeout: float = 60.0,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[FetchResult]:
    """Download ``<base_url>/<month>.7z`` for each month into ``dest``; see the module docstring.

    ``rate``: minimum seconds between two requests.  ``timeout``: seconds a connection may stall.  Returns one
    :class:`FetchResult` per month, missing months (HTTP 404) included; raises :class:`FetchError` otherwise.
    """
    if rate < 0:
        raise DataValidationError(f"--rate {rate}: must be >= 0 seconds between requests.")
    if not base_url.startswith(("http://", "https://")):
        raise DataValidationError(f"--base-url {base_url!r}: must start with http:// or https://.")
    folder = Path(dest) if dest is not None else default_dest()
    folder.mkdir(parents=True, exist_ok=True)
    log = read_fetch_log(folder)
    log["base_url"] = base_url
    results = []
    last_request: float | None = None
    for month in months:
        name = f"{month}.7z"
        url = base_url.rstrip("/") + "/" + name
        target = folder / name
        if target.is_file() and not target.is_symlink():
            results.append(_present(month, url, target, log))
            continue
        if last_request is not None:
            sleep(max(0.0, rate - (time.monotonic() - last_request)))
        last_request = time.monotonic()
        result = _download(month, url, target, timeout, progress)
        results.append(result)
        if result.status != "missing":
            log["archives"][name] = {"month": month, "url": url, "sha256": result.sha256, "bytes": result.bytes,
                                     "fetched_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        _write_json(folder / FETCH_LOG, log)
    return results


def _present(month: str, url: str, target: Path, log: dict) -> FetchResult:
    from spamits.data import file_sha256

    sha = file_sha256(target)
    known = log["archives"].get(target.name)
    if known and known.get("sha256") not in (None, sha):
        raise FetchError(f"{target}: SHA-256 {sha} differs from the {known['sha256']} recorded when it was "
                         f"fetched from {known.get('url', url)}; delete the file and fetch {month} again.")
    return FetchResult(month, (known or {}).get("url", url), str(target), "present", sha, target.stat().st_size)


def _download(month: str, url: str, target: Path, timeout: float, progress: Progress | None) -> FetchResult:
    """One month: resume ``.part`` if present, finish, check, hash and rename into place."""
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    try:
        status, total = _transfer(month, url, part, have, timeout, progress)
    except _Missing:
        logger.warning("%s: not on the server (HTTP 404): %s", month, url)
        return FetchResult(month, url, str(target), "missing")
    size = part.stat().st_size
    if total is not None and size != total:
        raise FetchError(f"{month}: download from {url} ended at {size} of {total} bytes; run the same command "
                         f"again to resume it (kept in {part}).")
    with open(part, "rb") as handle:
        signature = handle.read(len(SEVEN_ZIP_SIGNATURE))
    if signature != SEVEN_ZIP_SIGNATURE:
        part.unlink()
        raise FetchError(f"{month}: {url} did not return a 7z archive (first bytes {signature!r}); the server "
                         f"may have sent an error page. Check the URL or --base-url.")
    from spamits.data import file_sha256

    sha = file_sha256(part)
    os.replace(part, target)
    logger.info("%s: %s %d bytes, sha256 %s", month, status, size, sha)
    return FetchResult(month, url, str(target), status, sha, size)


class _Missing(Exception):
    pass


def _transfer(month: str, url: str, part: Path, have: int, timeout: float,
              progress: Progress | None) -> tuple[str, int | None]:
    """Request ``url`` from byte ``have`` on and append to ``part``; returns (status, total size or None)."""
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) checked by caller
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 404:
            raise _Missing from None
        if exc.code == 416 and have:  # the part is already complete, or longer than the file: start over
            part.unlink()
            return _transfer(month, url, part, 0, timeout, progress)
        raise FetchError(
            f"{month}: HTTP {exc.code} {exc.reason} for {url}; try again later or check --base-url.") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{month}: network failure fetching {url}: {reason}. Check the connection and run the "
                         f"same command again{_kept(part)}.") from None
    with response:
        resumed = response.status == 206 and have > 0
        start = have if resumed else 0
        total = _total_size(response, start, month, url)
        try:
            _copy(response, part, start, total, progress, month)
        except FetchError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{month}: network failure while downloading {url}: {exc}. Run the same command "
                             f"again to resume{_kept(part)}.") from None
    return ("resumed" if resumed else "fetched"), total


def _kept(part: Path) -> str:
    return f" (partial download kept in {part}, {part.stat().st_size} bytes)" if part.is_file() else ""


def _total_size(response: http.client.HTTPResponse, start: int, month: str, url: str) -> int | None:
    if response.status == 206:
        match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != start:
            raise FetchError(f"{month}: {url} answered a resume request with an unexpected Content-Range "
                             f"{response.headers.get('Content-Range')!r}; delete the .part file and try again.")
        total = None if match.group(2) == "*" else int(match.group(2))
    else:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
    if total is not None and total > MAX_ARCHIVE_BYTES:
        raise FetchError(f"{month}: {url} declares {total} bytes, more than the {MAX_ARCHIVE_BYTES} accepted for "
                         f"one monthly archive; check --base-url.")
    return total


def _copy(response, part: Path, start: int, total: int | None, progress: Progress | None, month: str) -> None:
    done = start
    with open(part, "r+b" if start and part.exists() else "wb") as out:
        out.seek(start)
        out.truncate()
        if progress:
            progress(f"{month}.7z", done, total)
        while block := response.read(_BLOCK):
            done += len(block)
            if done > (total if total is not None else MAX_ARCHIVE_BYTES):
                raise FetchError(f"{month}: the server sent more than the {total or MAX_ARCHIVE_BYTES} bytes "
                                 f"declared; delete {part} and try again.")
            out.write(block)
            if progress:
                progress(f"{month}.7z", done, total)
