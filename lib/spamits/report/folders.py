"""Report folders on disk: atomic publish, the build lock, and tidying after an interrupted build.

A run is written into a temporary folder ``<out>/.<name>.tmp-XXXX`` and :func:`publish` puts it in place in one
step; :func:`build_lock` keeps two builds out of one folder; :func:`tidy_leftovers` removes what a killed build
left (and restores a report a kill caught between the two renames of the fallback publish).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from spamits.errors import ReportError

log = logging.getLogger(__name__)

__all__ = ["build_lock", "exchange", "publish", "remove_tree", "tidy_leftovers"]

_LEFTOVER_RE = re.compile(r"^\.(?P<name>[a-z0-9][a-z0-9_-]{0,63}(?:\.failed)?)\.(?P<kind>tmp|old)-[A-Za-z0-9_]+$")


def publish(src: Path, dest: Path) -> None:
    """Put the finished folder ``src`` at ``dest`` in one step; the replaced ``dest`` (if any) is removed.

    Linux: an atomic exchange of the two folders (renameat2 RENAME_EXCHANGE), so ``dest`` is never missing.
    Elsewhere: ``dest`` is first renamed to ``.<name>.old-XXXX``, which the next build restores if a kill
    landed between the two renames (:func:`tidy_leftovers`).
    """
    if dest.exists() and exchange(src, dest):
        remove_tree(src)  # now holds the replaced report
        return
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(dest, old)
    try:
        os.replace(src, dest)
    except OSError:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        remove_tree(old)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False when not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"cannot swap {a} and {b}: {os.strerror(code)}")


def remove_tree(path: Path) -> None:
    """Remove the folder ``path`` and everything in it; nothing when it is not a folder."""
    if path.is_dir():
        shutil.rmtree(path)


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output folder for the whole build (a second build fails at once)."""
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReportError(f"{out}: another spamits report build is using this folder; wait for it") from None
        yield
    finally:
        os.close(fd)


def tidy_leftovers(out: Path) -> None:
    """Remove what an interrupted build left (temporary run folders, index temp files); restore a report
    that a kill caught between the two renames of a publish."""
    for path in sorted(out.iterdir()):
        match = _LEFTOVER_RE.match(path.name)
        if match and path.is_dir():
            target = out / match["name"]
            if match["kind"] == "old" and not target.exists():
                log.warning("restoring %s, left aside by an interrupted build", target)
                os.replace(path, target)
            else:
                log.info("removing %s, left by an interrupted build", path.name)
                remove_tree(path)
        elif path.name.startswith(".index.html.") and path.is_file():
            path.unlink()
