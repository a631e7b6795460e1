"""Download the untroubled.org spam-trap archives that hold the months asked for: resumably, politely, hashed.

:func:`fetch_untroubled` reads the index page at ``base_url`` (:func:`spamits.ingest.index.fetch_index`), maps
every month to the archive holding it (:func:`spamits.ingest.index.resolve`: the monthly ``YYYY-MM.7z`` where
one is listed, else the yearly ``YYYY.7z``; a month no listed archive covers is a :class:`FetchError` before
anything is downloaded), and downloads each archive needed once into ``dest`` (default
``data/raw/untroubled``, git-ignored):

* requests (the index page included) are spaced at least ``rate`` seconds apart;
* an archive already in ``dest`` whose SHA-256 matches the fetch log is not downloaded again (``present``);
* a download goes to ``NAME.part`` and is resumed with an HTTP ``Range`` request when that file exists (a failed
  download keeps it); an answer of 416 (the part is complete or longer than the file) starts over;
* before any byte is written, the size the server declares (Content-Length, or the total of Content-Range) is
  checked against ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`, 100 GB; ``--max-size``) and the bytes still
  to download against the free space of ``dest`` (:func:`shutil.disk_usage`); a server sending more than it
  declared, or more than ``max_bytes`` without declaring, is cut off;
* the finished file is checked (declared size, 7z signature), hashed (SHA-256), renamed into place and recorded
  in ``dest/fetch_log.json``: per archive ``url``, ``sha256``, ``bytes``, ``fetched_utc`` and the ``months`` it
  was fetched for.

Network failures, HTTP errors, a non-7z answer (an error page) and an unexpected Content-Range raise
:class:`FetchError` naming the archive and URL.  This module prints nothing: progress goes to an optional
callback ``progress(name, done_bytes, total_bytes)`` (see :class:`spamits.ingest.progress.ProgressBar`) and
notes (the index's summary, names it could not use, archives found but not in the log) to ``notify(text)``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import math
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spamits import paths
from spamits._atomic import write_atomic
from spamits.errors import DataValidationError
from spamits.ingest.index import USER_AGENT, ArchiveIndex, FetchError, fetch_index, month_span, resolve
from spamits.ingest.months import month_range
from spamits.ingest.progress import human_bytes

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_BYTES", "FETCH_LOG", "FetchError", "FetchResult", "default_dest",
           "fetch_untroubled", "month_range", "read_fetch_log"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://untroubled.org/spam/"
FETCH_LOG = "fetch_log.json"
SEVEN_ZIP_SIGNATURE = b"7z\xbc\xaf\x27\x1c"
DEFAULT_MAX_BYTES = 100 * 10**9
"""Largest archive accepted by default: 100 GB (decimal, 10^9 bytes), far above any spam-trap year; a guard
against a server that never stops sending, not a size estimate.  ``--max-size GB`` changes it."""
_BLOCK = 1 << 16

Progress = Callable[[str, int, int | None], None]
Notify = Callable[[str], None]


@dataclass
class FetchResult:
    """One archive: ``status`` is ``fetched``, ``resumed`` or ``present``; ``months`` (``YYYY-MM``) it was needed
    for in this run; ``bytes``: its size; ``sha256``: hex digest of the file in ``path``."""

    archive: str
    months: list[str]
    url: str
    path: str
    status: str
    sha256: str
    bytes: int
    logged: bool = field(default=True)
    """False for an archive found in the folder that the fetch log does not know (not downloaded by spamits)."""


def default_dest() -> Path:
    """``data/raw/untroubled`` under the data folder."""
    return paths.data_dir() / "raw" / "untroubled"


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


class _Polite:
    """Spaces requests at least ``rate`` seconds apart (``clock`` and ``sleep`` in seconds, injectable)."""

    def __init__(self, rate: float, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.rate, self.sleep, self.clock = rate, sleep, clock
        self.last: float | None = None

    def wait(self) -> None:
        """Call just before each request."""
        if self.last is not None:
            pause = self.rate - (self.clock() - self.last)
            if pause > 0:
                self.sleep(pause)
        self.last = self.clock()


def fetch_untroubled(
    months: list[str],
    *,
    dest: str | os.PathLike | None = None,
    base_url: str = DEFAULT_BASE_URL,
    rate: float = 2.0,
    timeout: float = 60.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    notify: Notify | None = None,
    dry_run: bool = False,
) -> list[FetchResult]:
    """Download the archives holding ``months`` (``YYYY-MM``) into ``dest``; see the module docstring.

    ``base_url``: the archive folder whose index page lists them (http or https).  ``rate``: minimum seconds
    between two requests, the index page's included.  ``timeout``: seconds a connection may stall.
    ``max_bytes``: largest archive accepted, in bytes (default 100 GB).  ``sleep``/``clock``: for tests.
    ``dry_run``: read the index and resolve the months, but download nothing: archives not yet here come back
    with status ``listed``, their size as the index shows it (approximate, or -1 when it shows none) and no hash.
    Returns one :class:`FetchResult` per archive, in the order first needed; raises :class:`FetchError`.
    """
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate >= 0):
        raise DataValidationError(f"--rate {rate}: must be >= 0 seconds between requests.")
    if not base_url.startswith(("http://", "https://")):
        raise DataValidationError(f"--base-url {base_url!r}: must start with http:// or https://.")
    if not (isinstance(max_bytes, int) and max_bytes > 0):
        raise DataValidationError(f"max_bytes {max_bytes!r}: must be a positive number of bytes (--max-size GB).")
    months = list(months)
    if not months:
        return []
    say = notify or (lambda text: None)
    folder = Path(dest) if dest is not None else default_dest()
    folder.mkdir(parents=True, exist_ok=True)
    log = read_fetch_log(folder)  # a broken log fails here, before any request
    polite = _Polite(rate, sleep, clock)

    polite.wait()
    index = fetch_index(base_url, timeout)
    _describe_index(index, say)
    plan = resolve(months, index)  # every month covered, or FetchError before any download
    _describe_plan(plan, index, folder, say)
    log["base_url"] = index.base_url
    results = []
    for name, needed in plan.items():
        listed = index.get(name)
        assert listed is not None  # resolve only returns listed archives
        target = folder / name
        if dry_run and not target.is_file():
            results.append(FetchResult(name, needed, listed.url, str(target), "listed", "",
                                       listed.approx_bytes or -1, logged=False))
            continue
        if target.is_file() and not target.is_symlink():
            result = _present(name, needed, listed.url, target, log, say)
        else:
            result = _download(name, needed, listed.url, target, timeout=timeout, max_bytes=max_bytes,
                               polite=polite, progress=progress, listed_bytes=listed.approx_bytes)
        results.append(result)
        if result.logged:
            _log(log, result)
            _write_json(folder / FETCH_LOG, log)
    return results


def _describe_index(index: ArchiveIndex, say: Notify) -> None:
    years = [a for a in index.archives if a.kind == "year"]
    monthly = [a for a in index.archives if a.kind == "month"]
    say(f"index {index.base_url}: {len(years)} yearly archive(s)"
        + (f" ({years[0].year}..{years[-1].year})" if years else "")
        + f", {len(monthly)} monthly"
        + (f" ({month_span(f'{a.year:04d}-{a.month:02d}' for a in monthly)})" if monthly else ""))
    if index.unrecognised:
        say(f"the index also links {', '.join(index.unrecognised)}: not named YYYY.7z or YYYY-MM.7z, not used")


def _describe_plan(plan: dict[str, list[str]], index: ArchiveIndex, folder: Path, say: Notify) -> None:
    """Say which archives the months need and how much the index says is still to download."""
    missing = [index.get(name) for name in plan if not (folder / name).is_file()]
    sizes = [a.approx_bytes for a in missing if a is not None]
    known = sum(s for s in sizes if s)
    unknown = sum(1 for s in sizes if not s)
    say(f"{len(plan)} archive(s) hold these months, {len(missing)} not yet in {folder}: about "
        f"{human_bytes(known)} to download as the index lists it"
        + (f" (and {unknown} archive(s) whose size it does not show)" if unknown else ""))


def _log(log: dict, result: FetchResult) -> None:
    """Record (or refresh) ``result`` in the fetch log; months of earlier runs are kept."""
    entry = dict(log["archives"].get(result.archive) or {})
    if result.status != "present" or not entry:
        entry.update(url=result.url, sha256=result.sha256, bytes=result.bytes,
                     fetched_utc=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    entry["months"] = sorted(set(entry.get("months") or []) | set(result.months))
    log["archives"][result.archive] = entry


def _present(name: str, months: list[str], url: str, target: Path, log: dict, say: Notify) -> FetchResult:
    """An archive already in the folder: checked against the logged hash, never downloaded again."""
    from spamits.data import file_sha256

    sha = file_sha256(target)
    known = log["archives"].get(name)
    if known and known.get("sha256") not in (None, sha):
        raise FetchError(f"{target}: SHA-256 {sha} differs from the {known['sha256']} recorded when it was "
                         f"fetched from {known.get('url', url)}; delete the file and fetch {name} again.")
    if not known:
        with open(target, "rb") as handle:
            signature = handle.read(len(SEVEN_ZIP_SIGNATURE))
        if signature != SEVEN_ZIP_SIGNATURE:
            raise FetchError(f"{target}: not a 7z archive (first bytes {signature!r}) and not in the fetch log; "
                             f"delete it and fetch {name} again.")
        say(f"{name}: found in {target.parent} but not in its {FETCH_LOG}: kept as is, its origin not recorded "
            f"(delete it to download it from {url})")
    return FetchResult(name, months, (known or {}).get("url", url), str(target), "present", sha,
                       target.stat().st_size, logged=bool(known))


def _download(name: str, months: list[str], url: str, target: Path, *, timeout: float, max_bytes: int,
              polite: _Polite, progress: Progress | None, listed_bytes: int | None) -> FetchResult:
    """One archive: resume ``.part`` if present, finish, check, hash and rename into place."""
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    status, total = _transfer(name, url, part, have, timeout=timeout, max_bytes=max_bytes, polite=polite,
                              progress=progress, listed_bytes=listed_bytes)
    size = part.stat().st_size
    if total is not None and size != total:
        raise FetchError(f"{name}: download from {url} ended at {size} of {total} bytes; run the same command "
                         f"again to resume it (kept in {part}).")
    with open(part, "rb") as handle:
        signature = handle.read(len(SEVEN_ZIP_SIGNATURE))
    if signature != SEVEN_ZIP_SIGNATURE:
        part.unlink()
        raise FetchError(f"{name}: {url} did not return a 7z archive (first bytes {signature!r}); the server "
                         f"may have sent an error page. Check the URL or --base-url.")
    from spamits.data import file_sha256

    sha = file_sha256(part)
    os.replace(part, target)
    logger.info("%s: %s %d bytes, sha256 %s", name, status, size, sha)
    return FetchResult(name, months, url, str(target), status, sha, size)


def _transfer(name: str, url: str, part: Path, have: int, *, timeout: float, max_bytes: int, polite: _Polite,
              progress: Progress | None, listed_bytes: int | None) -> tuple[str, int | None]:
    """Request ``url`` from byte ``have`` on and append to ``part``; returns (status, total size or None)."""
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    polite.wait()
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) checked by caller
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and have:  # the part is already complete, or longer than the file: start over
            part.unlink()
            return _transfer(name, url, part, 0, timeout=timeout, max_bytes=max_bytes, polite=polite,
                             progress=progress, listed_bytes=listed_bytes)
        raise FetchError(f"{name}: HTTP {exc.code} {exc.reason} for {url}; try again later or check "
                         f"--base-url.") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{name}: network failure fetching {url}: {reason}. Check the connection and run the "
                         f"same command again{_kept(part)}.") from None
    with response:
        if response.status not in (200, 206):
            raise FetchError(f"{name}: {url} answered HTTP {response.status} {response.reason}, not the archive; "
                             f"check --base-url.")
        resumed = response.status == 206 and have > 0
        start = have if resumed else 0
        total = _total_size(response, start, name, url, max_bytes)
        remaining = (total if total is not None else (listed_bytes or 0)) - start
        _check_disk(name, url, part, remaining, approximate=total is None)
        try:
            _copy(response, part, start, total, max_bytes, progress, name, url)
        except FetchError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{name}: network failure while downloading {url}: {exc}. Run the same command "
                             f"again to resume{_kept(part)}.") from None
    return ("resumed" if resumed else "fetched"), total


def _kept(part: Path) -> str:
    return f" (partial download kept in {part}, {part.stat().st_size} bytes)" if part.is_file() else ""


def _total_size(response: http.client.HTTPResponse, start: int, name: str, url: str, max_bytes: int) -> int | None:
    """The archive's full size from Content-Range (206) or Content-Length (200); refused above ``max_bytes``."""
    if response.status == 206:
        match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != start:
            raise FetchError(f"{name}: {url} answered a resume request with an unexpected Content-Range "
                             f"{response.headers.get('Content-Range')!r}; delete the .part file and try again.")
        total = None if match.group(2) == "*" else int(match.group(2))
    else:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
    if total is not None and total > max_bytes:
        raise FetchError(f"{name}: {url} declares {total} bytes ({human_bytes(total)}), more than the {max_bytes} "
                         f"bytes ({human_bytes(max_bytes)}) accepted for one archive; nothing was downloaded. Raise "
                         f"--max-size if that is expected, else check --base-url.")
    return total


def _check_disk(name: str, url: str, part: Path, remaining: int, *, approximate: bool) -> None:
    """Refuse to start when the folder has less free space than the bytes still to download."""
    if remaining <= 0:
        return
    free = shutil.disk_usage(part.parent).free
    if remaining > free:
        basis = " (as the index page lists it; the server gave no size)" if approximate else ""
        raise FetchError(f"{name}: not enough disk space to download it from {url}: {remaining} bytes "
                         f"({human_bytes(remaining)}) still needed{basis}, {free} bytes ({human_bytes(free)}) free "
                         f"in {part.parent}. Free some space or choose another --dest{_kept(part)}.")


def _copy(response, part: Path, start: int, total: int | None, max_bytes: int, progress: Progress | None,
          name: str, url: str) -> None:
    """Append the body to ``part`` from byte ``start``; stop a server sending more than declared or allowed."""
    limit = total if total is not None else max_bytes
    done = start
    with open(part, "r+b" if start and part.exists() else "wb") as out:
        out.seek(start)
        out.truncate()
        if progress:
            progress(name, done, total)
        while block := response.read(_BLOCK):
            done += len(block)
            if done > limit:
                out.close()
                part.unlink()
                what = f"the {total} bytes it declared" if total is not None else (
                    f"the {max_bytes} bytes ({human_bytes(max_bytes)}) accepted for one archive (--max-size)")
                raise FetchError(f"{name}: {url} sent more than {what}; the partial download was deleted. Check "
                                 f"--base-url, or raise --max-size if that size is expected.")
            out.write(block)
            if progress:
                progress(name, done, total)
    if progress and total is None:
        progress(name, done, done)  # the end, for a display that could not know the size
