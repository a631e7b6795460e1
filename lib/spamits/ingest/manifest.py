"""Provenance: ``data/MANIFEST`` (every shipped data file with SHA-256, source, licence) and derived-file manifests.

``data/MANIFEST`` is a tab-separated file: ``#`` comment lines, a header ``path<TAB>sha256<TAB>source<TAB>licence``
and one row per file under ``data/`` (paths relative to it, ``/``-separated).  :func:`verify` checks that every
listed file exists with that hash and that every file under ``data/`` is listed (``data/raw/`` and
``data/derived/``, which are git-ignored, and hidden files excepted); it also checks each derived file against
the ``*.manifest.json`` written beside it by :func:`write_derived`.  Writes are atomic (temporary file in the
same folder, then rename).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from spamits import __version__, paths
from spamits._atomic import write_atomic
from spamits.data import file_sha256
from spamits.errors import DataValidationError

__all__ = ["COLUMNS", "MANIFEST", "VerifyResult", "manifest_path", "read_manifest", "update_hashes", "verify",
           "write_atomic", "write_derived"]

MANIFEST = "MANIFEST"
COLUMNS = ("path", "sha256", "source", "licence")
UNLISTED_FOLDERS = ("raw", "derived")
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class VerifyResult:
    """``checked``: paths whose hash matched; ``problems``: one message per missing, changed or unlisted file."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def manifest_path(data_dir: str | os.PathLike | None = None) -> Path:
    """``<data folder>/MANIFEST``."""
    return Path(data_dir) / MANIFEST if data_dir is not None else paths.data_file(MANIFEST)


# ------------------------------------------------------------------------------------------- MANIFEST


def read_manifest(path: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """The rows of a MANIFEST file as dicts with keys :data:`COLUMNS`; raises DataValidationError when malformed."""
    p = Path(path) if path is not None else manifest_path()
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataValidationError(f"{p}: manifest not found; it must list every data file (see data/README.md)."
                                  ) from None
    body = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    if not body or body[0][1].split("\t") != list(COLUMNS):
        raise DataValidationError(f"{p}: the first non-comment line must be the header {'<TAB>'.join(COLUMNS)}.")
    rows, seen = [], set()
    for number, line in body[1:]:
        cells = line.split("\t")
        if len(cells) != len(COLUMNS) or not all(c.strip() for c in cells):
            raise DataValidationError(f"{p}: line {number}: expected {len(COLUMNS)} non-empty tab-separated fields "
                                      f"({', '.join(COLUMNS)}), got {len(cells)}.")
        row = dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
        _check_row(p, number, row, seen)
        rows.append(row)
    return rows


def _check_row(p: Path, number: int, row: dict[str, str], seen: set[str]) -> None:
    rel = PurePosixPath(row["path"])
    if rel.is_absolute() or ".." in rel.parts or "\\" in row["path"]:
        raise DataValidationError(f"{p}: line {number}: path {row['path']!r} must be relative to the data folder.")
    if not _SHA.match(row["sha256"]):
        raise DataValidationError(f"{p}: line {number}: sha256 {row['sha256']!r} is not 64 lower-case hex digits.")
    if row["path"] in seen:
        raise DataValidationError(f"{p}: line {number}: {row['path']} is listed twice.")
    seen.add(row["path"])


def _data_files(root: Path) -> list[str]:
    """Every file under the data folder that the manifest must list, as relative POSIX paths."""
    out = []
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (
            rel_folder == Path(".") and d in UNLISTED_FOLDERS))
        out.extend((rel_folder / f).as_posix() for f in files if not f.startswith(".") and not (
            rel_folder == Path(".") and f == MANIFEST))
    return sorted(out)


def verify(data_dir: str | os.PathLike | None = None) -> VerifyResult:
    """Check ``data/MANIFEST`` against the files (hash, presence, nothing unlisted) and the derived manifests."""
    root = Path(data_dir) if data_dir is not None else paths.data_dir()
    result = VerifyResult()
    manifest = manifest_path(root)
    rows = read_manifest(manifest)
    listed = set()
    for row in rows:
        listed.add(row["path"])
        target = root / row["path"]
        if not target.is_file():
            result.problems.append(f"{target}: listed in {manifest} but missing")
            continue
        actual = file_sha256(target)
        if actual != row["sha256"]:
            result.problems.append(
                f"{target}: SHA-256 mismatch: {manifest} records {row['sha256']}, the file has {actual}. If the "
                f"change is intended, run `spamits data verify --update`; otherwise restore the file.")
        else:
            result.checked.append(row["path"])
    for rel in _data_files(root):
        if rel not in listed:
            result.problems.append(f"{root / rel}: not listed in {manifest}; add a line path<TAB>sha256<TAB>source"
                                   f"<TAB>licence for it (then `spamits data verify --update` fills the hash).")
    _verify_derived(root / "derived", result)
    return result


def _verify_derived(folder: Path, result: VerifyResult) -> None:
    if not folder.is_dir():
        return
    for sidecar in sorted(folder.glob("*.manifest.json")):
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            target = folder / PurePosixPath(meta["file"]).name
            expected = meta["sha256"]
        except (ValueError, KeyError, TypeError) as exc:
            result.problems.append(f"{sidecar}: not a valid derived-file manifest ({exc})")
            continue
        if not target.is_file():
            result.problems.append(f"{target}: described by {sidecar.name} but missing")
        elif file_sha256(target) != expected:
            result.problems.append(f"{target}: SHA-256 mismatch with {sidecar.name} ({expected}); the file changed "
                                   f"after it was written: count it again with spamits data count.")
        else:
            result.checked.append(f"derived/{target.name}")


def update_hashes(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Rewrite the sha256 of every listed file that exists (comments and order kept); returns changed paths."""
    root = Path(data_dir) if data_dir is not None else paths.data_dir()
    manifest = manifest_path(root)
    read_manifest(manifest)  # validates first
    changed, out = [], []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) != len(COLUMNS) or cells[0] == COLUMNS[0]:
            out.append(line)
            continue
        target = root / cells[0].strip()
        if target.is_file():
            sha = file_sha256(target)
            if sha != cells[1].strip():
                changed.append(cells[0].strip())
                cells[1] = sha
        out.append("\t".join(cells))
    if changed:
        write_atomic(manifest, ("\n".join(out) + "\n").encode("utf-8"))
    return changed


# ------------------------------------------------------------------------------------------- derived files


def write_derived(frame: pd.DataFrame, out: str | os.PathLike, provenance: dict) -> tuple[Path, Path]:
    """Write ``frame`` as CSV at ``out`` and ``<stem>.manifest.json`` beside it (both atomically).

    The manifest holds the CSV's SHA-256, rows, the spamits version and ``provenance`` (sources, method,
    report).  Only the output's folder is written to (created if missing).
    """
    target = Path(out)
    if target.suffix.lower() != ".csv":
        raise DataValidationError(f"-o {target}: the output must be a .csv file (date,count).")
    target.parent.mkdir(parents=True, exist_ok=True)
    data = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    write_atomic(target, data)
    meta = {"file": target.name, "sha256": file_sha256(target), "rows": len(frame), "columns": list(frame.columns),
            "package": f"spamits {__version__}", **provenance}
    sidecar = target.with_name(target.stem + ".manifest.json")
    write_atomic(sidecar, (json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8"))
    return target, sidecar
