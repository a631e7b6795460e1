"""Helpers for the ingest tests: messages, maildirs, untroubled-style 7z archives and a loopback HTTP server.

Everything is built in the test's tmp_path; the server listens on 127.0.0.1 only, on a free port, serves the
files of one folder with HTTP Range support, and is shut down by the test that started it.
"""

from __future__ import annotations

import email.utils
import re
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import py7zr


def rfc_date(epoch: float) -> bytes:
    return email.utils.formatdate(epoch, usegmt=True).encode()


def message(epoch: float | None, *, received: bytes | None = None, date: bytes | None = None,
            extra: bytes = b"", body: bytes = b"Cheap pills. Click here.\n") -> bytes:
    """A spam message: first Received: stamped at ``epoch`` (qmail style), Date: the same unless given."""
    lines = [b"Return-Path: <spammer@example.net>", b"Delivered-To: trap@example.org"]
    if received is not None:
        lines.append(b"Received: " + received)
    elif epoch is not None:
        lines.append(b"Received: (qmail 4242 invoked from network); " + rfc_date(epoch))
    lines.append(b"Received: from 203.0.113.9 by mx.example.org with SMTP; " + rfc_date((epoch or 0) - 5))
    if date is not None:
        lines.append(b"Date: " + date)
    elif epoch is not None:
        lines.append(b"Date: " + rfc_date(epoch - 120))
    lines += [b"From: \"Pharmacy\" <spammer@example.net>", b"To: trap@example.org", b"Subject: offer"]
    return b"\n".join(lines) + b"\n" + extra + b"\n" + body


def make_maildir(root: Path, items: Iterable[tuple[str, bytes]]) -> Path:
    """A maildir at ``root`` holding ``(name, bytes)`` messages in cur/."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, data in items:
        (root / "cur" / name).write_bytes(data)
    return root


def entry_name(epoch: int, n: int) -> str:
    """A file name in the untroubled layout: ``YYYY/<epoch>.<pid>_<n>.lorien``."""
    return f"2008/{epoch}.{10000 + n}_{n}.lorien"


def make_archive(path: Path, items: Iterable[tuple[str, bytes]],
                 patch: Callable[[py7zr.SevenZipFile], None] | None = None) -> Path:
    """Write a 7z archive of ``(name, bytes)`` entries; ``patch(archive)`` may edit the header before it is written.

    py7zr refuses hostile names and cannot declare sizes it did not write, so hostile archives are made by
    editing the in-memory header (names, sizes) just before py7zr serialises it with correct CRCs.
    """
    with py7zr.SevenZipFile(path, "w") as archive:
        for name, data in items:
            archive.writestr(data, name)
        if patch is not None:
            write_header = archive._write_header

            def patched() -> None:
                patch(archive)
                write_header()

            archive._write_header = patched
    return path


def rename_entry(index: int, name: str) -> Callable[[py7zr.SevenZipFile], None]:
    def patch(archive: py7zr.SevenZipFile) -> None:
        archive.header.files_info.files[index]["filename"] = name
    return patch


def declare_size(index: int, size: int) -> Callable[[py7zr.SevenZipFile], None]:
    def patch(archive: py7zr.SevenZipFile) -> None:
        extra = size - archive.header.main_streams.substreamsinfo.unpacksizes[index]
        archive.header.main_streams.substreamsinfo.unpacksizes[index] = size
        folder = archive.header.main_streams.unpackinfo.folders[-1]
        folder.unpacksizes[-1] += extra
    return patch


class LoopbackServer:
    """Serve the files of ``root`` on 127.0.0.1 (free port) with Range support, in a background thread.

    ``requests``: (path, Range header or None) of every GET.  ``cut_once``: names whose first full (non-Range)
    download is cut after half the bytes (the connection closes early), to test resuming.
    """

    def __init__(self, root: Path, cut_once: Iterable[str] = ()) -> None:
        self.root = root
        self.requests: list[tuple[str, str | None]] = []
        self.cut_once = set(cut_once)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append((self.path, self.headers.get("Range")))
                server.serve(self)

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/spam/"

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        name = handler.path.rsplit("/", 1)[-1]
        file = self.root / name
        if not handler.path.startswith("/spam/") or not file.is_file():
            handler.send_error(404)
            return
        data = file.read_bytes()
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", handler.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            if start >= len(data):
                handler.send_error(416)
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            handler.send_response(200)
        handler.send_header("Content-Length", str(len(data) - start))
        handler.end_headers()
        if name in self.cut_once and not match:
            self.cut_once.discard(name)
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(data[start:])

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
