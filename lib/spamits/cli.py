"""Command line: ``spamits report``, ``spamits events list|show ID``, ``spamits data fetch|count|verify``.

Also ``python -m spamits``.

Exit codes: 0 success; 1 a spamits error (message on stderr) or a failed report run; 2 a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

import pandas as pd

from spamits import __version__
from spamits.errors import SpamitsError

_QUIET_LOGGERS = ("papermill", "traitlets", "nbconvert", "distributed", "kaleido", "choreographer")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the subcommand and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except SpamitsError as exc:
        print(f"spamits: error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="spamits", description="Interrupted time-series analysis of spam volume around takedowns."
    )
    parser.add_argument("--version", action="version", version=f"spamits {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = commands.add_parser(
        "report", help="run the notebooks of the runs file and build reports/ (unchanged runs are skipped)"
    )
    report.add_argument("--only", nargs="+", action="extend", metavar="RUN",
                        help="build only these runs (may be repeated); the index still lists every run")
    report.add_argument("--runs", metavar="FILE", help="runs file (default: notebooks/runs.yaml)")
    report.add_argument("--out", metavar="DIR", help="output folder (default: reports/)")
    report.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                        help="runs at once in local worker processes (default: all cores)")
    report.add_argument("--force", action="store_true",
                        help="re-run even the runs whose notebook, parameters, code and data are unchanged")
    report.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on this Dask distributed scheduler (e.g. tcp://host:8786) instead of local "
                             "processes; workers need spamits installed and the output folder shared")
    report.add_argument("-q", "--quiet", action="store_true", help="log errors only (no progress lines)")
    report.set_defaults(func=_cmd_report)

    events = commands.add_parser("events", help="the catalog of takedowns and natural pauses")
    events_commands = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    events_commands.add_parser("list", help="one line per event: id, date, mechanism, name").set_defaults(
        func=_cmd_events_list
    )
    show = events_commands.add_parser("show", help="every field of one event")
    show.add_argument("event_id", metavar="ID", help="event id, e.g. mccolo")
    show.set_defaults(func=_cmd_events_show)
    _add_data_commands(commands)
    return parser


def _add_data_commands(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="real data: fetch spam-trap archives, count messages per day, verify")
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download monthly archives (resumable; into data/raw/untroubled)")
    fetch.add_argument("source", choices=["untroubled"], help="the archive to fetch")
    fetch.add_argument("--from", dest="start", required=True, metavar="YYYY-MM", help="first month")
    fetch.add_argument("--to", dest="end", required=True, metavar="YYYY-MM", help="last month (inclusive)")
    fetch.add_argument("--base-url", metavar="URL", help="where the YYYY-MM.7z files are (default: untroubled.org)")
    fetch.add_argument("--dest", metavar="DIR", help="download folder (default: data/raw/untroubled)")
    fetch.add_argument("--rate", type=float, default=2.0, metavar="SECONDS",
                       help="minimum seconds between requests (default 2)")
    fetch.set_defaults(func=_cmd_data_fetch)
    count = actions.add_parser("count", help="messages per UTC day of a maildir, mbox, .eml folder or .7z archives")
    count.add_argument("path", metavar="PATH", help="maildir, mbox file, folder of .eml, or YYYY-MM.7z file/folder")
    count.add_argument("-o", "--out", metavar="OUT.csv",
                       help="output date,count CSV (default for untroubled: data/derived/untroubled_daily.csv)")
    count.add_argument("--format", choices=["maildir", "mbox", "eml", "untroubled"], help="default: detected")
    count.set_defaults(func=_cmd_data_count)
    verify = actions.add_parser("verify", help="check data/MANIFEST hashes and derived files' manifests")
    verify.add_argument("--update", action="store_true", help="rewrite the hashes of listed files first")
    verify.set_defaults(func=_cmd_data_verify)


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from spamits import ingest

    months = ingest.month_range(args.start, args.end)
    results = ingest.fetch_untroubled(
        months, dest=args.dest, base_url=args.base_url or ingest.DEFAULT_BASE_URL, rate=args.rate,
        progress=_ProgressBar(sys.stderr))
    missing = [r for r in results if r.status == "missing"]
    for r in results:
        detail = f"sha256 {r.sha256}, {r.bytes} bytes" if r.sha256 else f"not on the server (HTTP 404): {r.url}"
        print(f"{r.month}  {r.status:<8} {detail}")
    if missing:
        print(f"spamits: error: {len(missing)} month(s) missing on the server: "
              f"{', '.join(f'{r.month} ({r.url})' for r in missing)}; they were skipped", file=sys.stderr)
        return 1
    return 0


def _cmd_data_count(args: argparse.Namespace) -> int:
    from spamits import ingest

    report, csv_path, sidecar = ingest.count_to_csv(args.path, args.out, args.format)
    for line in report.summary():
        print(f"spamits: {line}", file=sys.stderr)
    check = report.extra.get("cross_check")
    if check:
        print(f"spamits: cross-check of {check['sampled']} sampled entries against their header: "
              f"{check['same_utc_day']} same UTC day, {check['different_utc_day']} different, "
              f"{check['no_header_date']} without a header date; median offset "
              f"{check['median_abs_offset_minutes']} min", file=sys.stderr)
        for example in check["disagreement_examples"]:
            print(f"spamits: disagreement: {example}", file=sys.stderr)
        if check["stopped"]:
            print(f"spamits: cross-check stopped early: {check['stopped']}", file=sys.stderr)
    for note in report.extra.get("cross_check_notes", []):
        print(f"spamits: {note}", file=sys.stderr)
    print(f"wrote {csv_path} ({len(report.frame())} days, {report.messages} messages) and {sidecar.name}")
    return 0


def _cmd_data_verify(args: argparse.Namespace) -> int:
    from spamits import ingest

    if args.update:
        for path in ingest.update_hashes():
            print(f"updated the hash of {path}", file=sys.stderr)
    result = ingest.verify()
    for problem in result.problems:
        print(f"spamits: error: {problem}", file=sys.stderr)
    print(f"{len(result.checked)} file(s) verified, {len(result.problems)} problem(s)")
    return 0 if result.ok else 1


class _ProgressBar:
    """Draws ``name [#####     ] 45% 12.3/27.1 MB`` on a terminal (redrawn at most 10 times a second)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last = 0.0

    def __call__(self, name: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self.last < 0.1:
            return
        self.last = now
        mb = f"{done / 1e6:.1f}" + (f"/{total / 1e6:.1f} MB" if total else " MB")
        if total:
            filled = int(30 * done / total)
            line = f"{name} [{'#' * filled}{' ' * (30 - filled)}] {100 * done // total:3d}% {mb}"
        else:
            line = f"{name} {mb}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if finished else ""))
        elif finished:
            self.stream.write(line + "\n")
        self.stream.flush()


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cmd_report(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.INFO, format="spamits: %(message)s", stream=sys.stderr
    )
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if args.quiet else logging.WARNING)
    from spamits import report  # papermill and nbconvert are slow to import: only for this command

    return report.run_all(runs_file=args.runs, out_dir=args.out, only=args.only, jobs=args.jobs, force=args.force,
                          scheduler=args.scheduler)


def _cmd_events_list(args: argparse.Namespace) -> int:
    from spamits import events

    frame = events.load()
    rows = [(r.id, _day(r.date), r.mechanism, r.name) for r in frame.itertuples(index=False)]
    print(_table(("id", "date", "mechanism", "name"), rows))
    return 0


def _cmd_events_show(args: argparse.Namespace) -> int:
    from spamits import events

    event = events.get(args.event_id)
    lines = [
        ("id", event.id),
        ("name", event.name),
        ("kind", event.kind),
        ("date", f"{_day(event.date)} (range {_day(event.date_lo)} to {_day(event.date_hi)})"),
        ("mechanism", "; ".join(f"{code}: {events.MECHANISMS.get(code, '?')}" for code in event.mechanisms)),
        ("botnets", ", ".join(event.botnets)),
        ("reported effect", event.reported_effect),
    ]
    width = max(len(label) for label, _ in lines + [("sources", "")])
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    for number, url in enumerate(event.sources):
        print(f"{'sources' if number == 0 else '':<{width}}  {url}")
    return 0


def _day(value: object) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d") if value is not None and not pd.isna(value) else ""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain left-aligned text table (last column not padded)."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [f"{cell!s:<{width}}" for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, str(row[-1])]))
    return "\n".join(lines)
