"""Time ``spamits data count`` on a generated untroubled-style 7z archive against extract-to-disk-then-parse.

Generates (once, cached in ``--workdir``) a yearly archive ``2008.7z`` in the real layout -- one message per
entry named ``2008/MM/<epoch>.<pid>_<n>.txt``, solid LZMA2, messages of a few KiB with realistic spam headers
(a qmail top ``Received:`` line, 3-6 relay hops, DKIM, MIME bodies; the file-name epoch a log-normal lag of
median 11 hours after arrival, as on the real archive) -- of at least ``--gigabytes`` of decompressed mail, and
a quarter-size one to show how memory scales.  Then, in the same run, each method in its own process (so its
peak resident memory is its own):

* ``spamits``: :func:`spamits.ingest.trap.count_archives` (libarchive streaming, header block only);
* ``py7zr-stream``: py7zr ``extract(factory=...)`` with a writer keeping only the header prefix, same dating
  (the other library considered; see :mod:`spamits.ingest.sevenzip`);
* ``baseline``: extract the archive to a temporary folder with libarchive (C, the fastest extractor at hand),
  then read each file's header and date it the same way.

All three must give the same hourly counts.  Prints a Markdown table: decompressed MB/s, messages/s, peak
resident memory (MB) and the throughput ratio against the baseline measured in this run.  ``--entries N ...``
instead measures spamits' peak memory on archives of N tiny messages each (memory follows the number of
entries, not their size: libarchive holds the 7z header).
Usage: ``.venv/bin/python benchmarks/bench_archive_count.py [--gigabytes 1.0] [--workdir DIR] [--entries N ...]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_count import make_message  # noqa: E402  (same realistic spam messages as the maildir benchmark)

START = 1199145600  # 2008-01-01 00:00 UTC


def generate(path: Path, gigabytes: float, seed: int = 0) -> dict:
    """Write ``path`` (solid LZMA2, preset 1 for generation speed) with at least ``gigabytes`` of mail."""
    import py7zr

    rng = random.Random(seed)
    target = gigabytes * 1e9
    total = n = 0
    year = 366 * 86400
    tmp = path.with_suffix(".tmp")
    with py7zr.SevenZipFile(tmp, "w", filters=[{"id": py7zr.FILTER_LZMA2, "preset": 1}]) as archive:
        while total < target:
            arrived = START + 120 * n  # one message every two minutes
            filed = arrived + int(3600 * math.exp(rng.gauss(math.log(11), 1.0)))
            filed = min(filed, START + year - 1)
            month = time.strftime("%m", time.gmtime(filed))
            data = make_message(rng, arrived)
            archive.writestr(data, f"2008/{month}/{filed}.{rng.randint(1000, 32000)}_{n}.txt")
            total += len(data)
            n += 1
    tmp.replace(path)
    return {"messages": n, "bytes": total}


def generate_tiny(path: Path, entries: int) -> dict:
    """``entries`` messages of about 120 bytes each (one every 5 s of 2008), real layout, solid LZMA2."""
    import email.utils

    import py7zr

    tmp = path.with_suffix(".tmp")
    total = 0
    with py7zr.SevenZipFile(tmp, "w", filters=[{"id": py7zr.FILTER_LZMA2, "preset": 1}]) as archive:
        for i in range(entries):
            arrived = START + 5 * i
            data = (b"Return-Path: <a@b.example>\nReceived: (qmail 1 invoked from network); "
                    + email.utils.formatdate(arrived).encode() + b"\nSubject: x\n\nbody\n")
            archive.writestr(data, f"2008/{time.strftime('%m', time.gmtime(arrived))}/{arrived + 40000}.{i}_{i}.txt")
            total += len(data)
    tmp.replace(path)
    return {"messages": entries, "bytes": total}


def run_spamits(path: str) -> dict:
    from spamits.ingest.trap import count_archives

    report = count_archives(path, now=time.time())
    return {"messages": report.messages, "hours": {str(k): v for k, v in report.hours.items()}}


def run_py7zr(path: str) -> dict:
    import py7zr
    from py7zr.io import Py7zIO, WriterFactory

    from spamits.ingest.tally import CountReport

    report = CountReport(source=path, format="untroubled")
    now = time.time()

    class Head(Py7zIO):
        def __init__(self, name: str) -> None:
            self.name, self.data, self.total = name, bytearray(), 0

        def write(self, s: bytes) -> int:
            if len(self.data) < 65536:
                self.data += s[: 65536 - len(self.data)]
            self.total += len(s)
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return self.total

    class Factory(WriterFactory):
        def __init__(self) -> None:
            self.pending: Head | None = None

        def create(self, filename: str) -> Py7zIO:
            self.flush()
            self.pending = Head(filename)
            return self.pending

        def flush(self) -> None:
            if self.pending is not None:
                p = self.pending
                report.add_message(bytes(p.data), p.name, complete=False, now=now, name=p.name)
                self.pending = None

    factory = Factory()
    with py7zr.SevenZipFile(path, "r") as archive:
        archive.extract(factory=factory)
    factory.flush()
    return {"messages": report.messages, "hours": {str(k): v for k, v in report.hours.items()}}


def run_baseline(path: str) -> dict:
    import libarchive

    from spamits.ingest.tally import CountReport

    report = CountReport(source=path, format="untroubled")
    now = time.time()
    folder = tempfile.mkdtemp(prefix="bench-extract-")
    cwd = os.getcwd()
    try:
        os.chdir(folder)
        libarchive.extract_file(path)
        for root, _dirs, files in os.walk(folder):
            for name in files:
                with open(os.path.join(root, name), "rb") as handle:
                    head = handle.read(65536)
                report.add_message(head, name, complete=False, now=now, name=name)
    finally:
        os.chdir(cwd)
        shutil.rmtree(folder, ignore_errors=True)
    return {"messages": report.messages, "hours": {str(k): v for k, v in report.hours.items()}}


METHODS = {"baseline": run_baseline, "spamits": run_spamits, "py7zr-stream": run_py7zr}


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM, MB): reset at exec, unlike ru_maxrss, which a child
    inherits from the process that forked it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(method: str, path: str) -> None:
    """Run one method and print JSON: seconds, peak RSS (MB), counts (imports done before the clock starts)."""
    import libarchive  # noqa: F401
    import py7zr  # noqa: F401

    import spamits.ingest.trap  # noqa: F401

    start = time.perf_counter()
    out = METHODS[method](path)
    out["seconds"] = time.perf_counter() - start
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out))


def measure(method: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", method, str(path)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0, help="decompressed size of the big archive")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "spamits-bench-archive"))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--entries", nargs="+", type=int, help="measure memory on archives of N tiny messages")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if args.entries:
        entry_memory(work, args.entries)
        return
    rows = []
    for gigabytes in (args.gigabytes / 4, args.gigabytes):
        path = work / f"{gigabytes:.2f}GB" / "2008.7z"
        meta_path = path.with_suffix(".json")
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            started = time.perf_counter()
            meta = generate(path, gigabytes)
            print(f"generated {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            meta_path.write_text(json.dumps(meta))
        meta = json.loads(meta_path.read_text())
        results = {m: measure(m, path) for m in args.methods}
        hours = {json.dumps(r["hours"], sort_keys=True) for r in results.values()}
        assert len(hours) == 1, "the methods disagree on the hourly counts"
        assert all(r["messages"] == meta["messages"] for r in results.values()), "a message was not counted"
        base = meta["bytes"] / results["baseline"]["seconds"] if "baseline" in results else None
        for method, r in results.items():
            rate = meta["bytes"] / r["seconds"]
            rows.append((f"{meta['bytes'] / 1e9:.2f} GB ({path.stat().st_size / 1e6:.0f} MB 7z), "
                         f"{meta['messages']:,} msgs", method, r["seconds"], rate / 1e6,
                         meta["messages"] / r["seconds"], r["peak_mb"], rate / base if base else float("nan")))
    print("| archive | method | seconds | MB/s (decompressed) | messages/s | peak RSS MB | throughput vs baseline |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]:.1f} | {row[3]:.1f} | {row[4]:,.0f} | {row[5]:.0f} | {row[6]:.2f} |")


def entry_memory(work: Path, counts: list[int]) -> None:
    """Peak memory of spamits on archives of ``counts`` tiny messages (Markdown table)."""
    print("| entries | 7z MB | seconds | messages/s | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|")
    for n in counts:
        path = work / f"tiny-{n}" / "2008.7z"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            generate_tiny(path, n)
        r = measure("spamits", path)
        assert r["messages"] == n, "a message was not counted"
        print(f"| {n:,} | {path.stat().st_size / 1e6:.1f} | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | "
              f"{r['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
