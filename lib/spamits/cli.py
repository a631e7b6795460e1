"""Command line: ``spamits report``, ``spamits events list``, ``spamits events show ID`` (also ``python -m spamits``).

Exit codes: 0 success; 1 a spamits error (message on stderr) or a failed report run; 2 a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import pandas as pd

from spamits import __version__
from spamits.errors import SpamitsError

_QUIET_LOGGERS = ("papermill", "traitlets", "nbconvert")


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

    report = commands.add_parser("report", help="run the notebooks of the runs file and build reports/")
    report.add_argument("--only", nargs="+", action="extend", metavar="NAME", help="run only these runs")
    report.add_argument("--runs", metavar="FILE", help="runs file (default: notebooks/runs.yaml)")
    report.add_argument("--out", metavar="DIR", help="output folder (default: reports/)")
    report.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="runs at once (default 1)")
    report.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    report.set_defaults(func=_cmd_report)

    events = commands.add_parser("events", help="the catalog of takedowns and natural pauses")
    events_commands = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    events_commands.add_parser("list", help="one line per event: id, date, mechanism, name").set_defaults(
        func=_cmd_events_list
    )
    show = events_commands.add_parser("show", help="every field of one event")
    show.add_argument("event_id", metavar="ID", help="event id, e.g. mccolo")
    show.set_defaults(func=_cmd_events_show)
    return parser


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

    return report.run_all(runs_file=args.runs, out_dir=args.out, only=args.only, jobs=args.jobs)


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
