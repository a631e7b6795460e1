"""Stream the entries of a 7z archive, keeping only each entry's header block: nothing goes to disk.

:func:`iter_entries` yields one :class:`Entry` per archive member, in archive order, with at most
``head_limit`` bytes of its content: enough for the mail header, which ends at the first blank line.  The rest
of each entry is decompressed and dropped by libarchive without reaching Python, so memory stays bounded by
one read buffer whatever the archive's size; the 7z header itself (names and sizes of all entries, held by
libarchive) grows with the number of entries, about 100 bytes each.

Why libarchive (through the ``libarchive-c`` binding, which loads the system's ``libarchive.so.13``): measured
in ``benchmarks/bench_count.py`` on generated archives in the untroubled layout (solid LZMA2), it streams
decompressed mail about three times as fast as py7zr with a streaming writer (py7zr's ``extract(factory=...)``
passes every decompressed byte through Python calls) and at a fraction of its memory, and both beat
extracting to disk and parsing the files.  py7zr is kept for writing test archives.  libarchive reads the
7z formats the archive uses (LZMA, LZMA2, PPMd, BCJ/BCJ2, solid blocks); ``make test`` / ``make report`` install
Debian's ``libarchive13`` when it is missing.

Real archives this was checked on: the untroubled.org layout, one message per entry named ``YYYY/MM/<name>``
(see ``tests/fixtures/untroubled/README.md``); test archives are rebuilt from those real messages, by py7zr and
by the reference 7-Zip (``7zz``, solid LZMA, LZMA2 and PPMd).  A corrupt or
truncated archive raises :class:`~spamits.errors.DataValidationError` naming the file and the entry reached.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spamits.errors import DataValidationError

__all__ = ["HEAD_LIMIT", "MAX_ENTRY_BYTES", "Entry", "iter_entries", "libarchive_available"]

HEAD_LIMIT = 64 * 1024
"""Bytes of an entry kept at most while looking for the end of its header."""
MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""Entries declaring more than this (64 MiB) are not plausible single spam messages: their data is not read."""
_BLOCK = 16 * 1024


@dataclass(frozen=True)
class Entry:
    """One archive member: ``name`` as stored, declared ``size`` in bytes (None if not stored), ``head`` (its
    first bytes, up to the end of the header block or ``head_limit``), ``complete`` (``head`` is the whole
    entry), and whether it is a folder or a symbolic link (those carry no ``head``)."""

    name: str
    size: int | None
    head: bytes
    complete: bool
    is_dir: bool = False
    is_symlink: bool = False


def libarchive_available() -> str | None:
    """None when libarchive can be loaded, else the reason (with how to install it)."""
    try:
        import libarchive  # noqa: F401
    except (ImportError, OSError, AttributeError) as exc:
        return (f"libarchive could not be loaded ({type(exc).__name__}: {exc}); install the system library: "
                f"`sudo apt-get install libarchive13` (Debian/Ubuntu), `brew install libarchive` (macOS) or "
                f"`conda install -c conda-forge libarchive`")
    return None


def iter_entries(path: str | os.PathLike, *, head_limit: int = HEAD_LIMIT,
                 max_entry_bytes: int | None = None) -> Iterator[Entry]:
    """Yield the entries of the 7z archive at ``path`` in archive order (see the module docstring).

    Entries declaring more than ``max_entry_bytes`` (default :data:`MAX_ENTRY_BYTES`) are yielded with an empty
    ``head`` and their data is never handed to Python (libarchive still decompresses it to reach the next
    entry of a solid block, in bounded memory).  An archive whose header lies about sizes is damaged: libarchive
    stops there and this raises, naming the entry reached.  Raises :class:`DataValidationError` when libarchive
    is missing or the archive cannot be read.
    """
    reason = libarchive_available()
    if reason:
        raise DataValidationError(f"{path}: cannot read 7z archives: {reason}.")
    import libarchive
    from libarchive.exception import ArchiveError

    p = Path(path)
    limit = MAX_ENTRY_BYTES if max_entry_bytes is None else max_entry_bytes
    last = "(before the first entry)"
    try:
        with libarchive.file_reader(str(p), format_name="7zip") as archive:
            for member in archive:
                last = member.pathname or "(unnamed entry)"
                yield _entry(member, last, head_limit, limit)
    except ArchiveError as exc:
        raise DataValidationError(
            f"{p}: not a readable 7z archive (corrupt or truncated; libarchive: {exc}; last entry reached: "
            f"{last}). Delete it and fetch it again with spamits data fetch untroubled.") from None


def _entry(member, name: str, head_limit: int, max_entry_bytes: int) -> Entry:
    size = member.size if member.size is not None and member.size >= 0 else None
    if member.isdir or member.issym:
        return Entry(name, size, b"", True, is_dir=bool(member.isdir), is_symlink=bool(member.issym))
    if size is not None and size > max_entry_bytes:
        return Entry(name, size, b"", False)
    head = bytearray()
    complete = True
    for block in member.get_blocks(_BLOCK):
        head += block
        if b"\n\n" in head or b"\n\r\n" in head or len(head) >= head_limit:
            complete = False
            break
    return Entry(name, size, bytes(head[:head_limit]), complete)
