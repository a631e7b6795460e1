"""Command line: ``spamits report``, ``spamits run NOTEBOOK``, ``spamits events list|show ID``,
``spamits data fetch|count|verify``.

Also ``python -m spamits``.

Exit codes: 0 success; 1 a spamits error (message on stderr) or a failed report run; 2 a usage error;
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

import pandas as pd

from spamits import __version__
from spamits.errors import SpamitsError

_QUIET_LOGGERS = ("papermill", "traitlets", "nbconvert", "distributed", "kaleido", "choreographer")
EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT)."""


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
    except KeyboardInterrupt:
        print("spamits: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


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
    report.add_argument("--self-contained", action="store_true",
                        help="embed plotly.js (5 MB) in every HTML page, so one page works on its own (e.g. "
                             "mailed); default: the pages share one copy in reports/_static/")
    report.add_argument("-q", "--quiet", action="store_true", help="log errors only (no progress lines)")
    report.set_defaults(func=_cmd_report)

    run = commands.add_parser(
        "run", help="run one notebook with papermill, every -p name checked against its parameters cell",
        description="Run NOTEBOOK with papermill into OUT (the kernel works in OUT's folder, so results.json lands "
                    "beside it). Unlike plain papermill, every -p NAME must be defined in the notebook's "
                    "parameters cell (a misspelt one is an error naming the closest valid name), and VALUE is "
                    "converted to the type of NAME's default there: a text default keeps VALUE as text; int, "
                    "float and bool defaults take a number or true/false; any other default (None, a list, a "
                    "dict) takes YAML, e.g. -p joint_events '[]'; -y NAME YAML takes YAML whatever the default "
                    "(e.g. -y seasonality 3, -y seasonality null).")
    run.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to run, e.g. notebooks/takedown_its.ipynb")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     dest="parameters", help="set a parameter of the notebook's parameters cell (may be repeated)")
    run.add_argument("-y", "--yaml-parameter", nargs=2, action="append", default=[], metavar=("NAME", "YAML"),
                     dest="yaml_parameters", help="set a parameter to a YAML value, whatever its default's type")
    run.add_argument("-o", "--out", metavar="OUT",
                     help="executed notebook to write (default: <notebook name>.out.ipynb in the current folder)")
    run.set_defaults(func=_cmd_run)

    events = commands.add_parser("events", help="the catalog of takedowns and natural pauses")
    events_commands = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    events_commands.add_parser("list", help="one line per event: id, date, kind, mechanism, name").set_defaults(
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
    fetch = actions.add_parser(
        "fetch", help="download the archives holding the months asked for (picked from the index page; resumable; "
                      "into data/raw/untroubled)")
    fetch.add_argument("source", choices=["untroubled"], help="the archive to fetch")
    fetch.add_argument("--from", dest="start", required=True, metavar="YYYY-MM", help="first month")
    fetch.add_argument("--to", dest="end", required=True, metavar="YYYY-MM", help="last month (inclusive)")
    fetch.add_argument("--base-url", metavar="URL",
                       help="the folder whose index page lists the YYYY.7z and YYYY-MM.7z archives (default: "
                            "http://untroubled.org/spam/); each month comes from YYYY-MM.7z where listed, else "
                            "from YYYY.7z")
    fetch.add_argument("--dest", metavar="DIR", help="download folder (default: data/raw/untroubled)")
    fetch.add_argument("--rate", type=float, default=2.0, metavar="SECONDS",
                       help="minimum seconds between requests, the index page's included (default 2)")
    fetch.add_argument("--max-size", type=float, default=100.0, metavar="GB",
                       help="refuse an archive the server declares or sends larger than this, in GB of 10^9 bytes "
                            "(default 100)")
    fetch.add_argument("--dry-run", action="store_true",
                       help="read the index and list the archives the months need, with their listed sizes; "
                            "download nothing")
    fetch.set_defaults(func=_cmd_data_fetch)
    count = actions.add_parser("count", help="messages per UTC day or hour of .7z trap archives, a maildir, an mbox "
                                              "or .eml files (headers only, nothing extracted)")
    count.add_argument("path", metavar="PATH", help="download folder of YYYY.7z / YYYY-MM.7z archives (or one "
                                                    "archive), maildir, mbox file or folder of .eml")
    count.add_argument("-o", "--out", metavar="OUT.csv",
                       help="output date,count CSV (default for untroubled: data/derived/untroubled_daily.csv, "
                            "or untroubled_hourly.csv with --freq hour)")
    count.add_argument("--freq", choices=["day", "hour"], default="day", help="count per UTC day (default) or hour")
    count.add_argument("--from", dest="start", metavar="YYYY-MM", help="first month to count (default: all found)")
    count.add_argument("--to", dest="end", metavar="YYYY-MM", help="last month to count (inclusive)")
    count.add_argument("--format", choices=["maildir", "mbox", "eml", "untroubled"], help="default: detected")
    count.set_defaults(func=_cmd_data_count)
    verify = actions.add_parser("verify", help="check data/MANIFEST hashes and derived files' manifests")
    verify.add_argument("--update", action="store_true", help="rewrite the hashes of listed files first")
    verify.set_defaults(func=_cmd_data_verify)


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    """One line per archive on stdout: name, months it holds for this run, status, sha256, bytes."""
    import math

    from spamits import ingest
    from spamits.errors import DataValidationError
    from spamits.ingest.index import month_span
    from spamits.ingest.progress import ProgressBar

    months = ingest.month_range(args.start, args.end)
    if not (math.isfinite(args.max_size) and args.max_size > 0):
        raise DataValidationError(f"--max-size {args.max_size}: must be a positive number of GB.")
    bar = ProgressBar(sys.stderr)
    try:
        results = ingest.fetch_untroubled(
            months, dest=args.dest, base_url=args.base_url or ingest.DEFAULT_BASE_URL, rate=args.rate,
            max_bytes=max(1, round(args.max_size * 1e9)), progress=bar,
            notify=lambda text: print(f"spamits: {text}", file=sys.stderr), dry_run=args.dry_run)
    finally:
        bar.close()
    spans = [month_span(r.months) for r in results]
    width = max(map(len, spans), default=0)
    for r, span in zip(results, spans, strict=True):
        detail = (f"about {r.bytes} bytes as listed" if r.bytes >= 0 else "size not listed") if r.status == "listed" \
            else f"sha256 {r.sha256}  {r.bytes} bytes"
        print(f"{r.archive:<10}  {span:<{width}}  {r.status:<7}  {detail}")
    return 0


def _cmd_data_count(args: argparse.Namespace) -> int:
    from spamits import ingest

    months = ingest.parse_months(args.start, args.end)
    report, csv_path, sidecar = ingest.count_to_csv(args.path, args.out, args.format, freq=args.freq, months=months)
    for line in report.summary():
        print(f"spamits: {line}", file=sys.stderr)
    lag = report.lag_summary()
    if lag["n"]:
        q = lag["quantiles"]
        print(f"spamits: file-name epoch minus top Received: time over {lag['n']} messages: median {q['p50']} h, "
              f"90% below {q['p90']} h, range {q['min']} to {q['max']} h (why messages are dated by Received:)",
              file=sys.stderr)
    if report.extra.get("edge_note"):
        print(f"spamits: note: {report.extra['edge_note']}", file=sys.stderr)
    rows = json.loads(sidecar.read_text(encoding="utf-8"))["rows"]  # as written, not counted again
    print(f"wrote {csv_path} ({rows} {'hours' if args.freq == 'hour' else 'days'}, {report.messages} messages) "
          f"and {sidecar.name}")
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _interruptible() -> None:
    """Let SIGINT raise KeyboardInterrupt even when this process was started with it ignored (``cmd &``)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _cmd_run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="spamits: %(message)s", stream=sys.stderr)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    _interruptible()
    from spamits.report import single  # papermill is slow to import: only once the names are checked

    parameters = single.parse_parameters(args.notebook, [tuple(pair) for pair in args.parameters],
                                         [tuple(pair) for pair in args.yaml_parameters])
    out = single.run_notebook(args.notebook, parameters, output=args.out)
    print(out)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    _interruptible()
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.INFO, format="spamits: %(message)s", stream=sys.stderr
    )
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if args.quiet else logging.WARNING)
    from spamits import report  # papermill and nbconvert are slow to import: only for this command

    return report.run_all(runs_file=args.runs, out_dir=args.out, only=args.only, jobs=args.jobs, force=args.force,
                          scheduler=args.scheduler, self_contained=args.self_contained)


def _cmd_events_list(args: argparse.Namespace) -> int:
    from spamits import events

    frame = events.load()
    rows = [(r.id, _day(r.date), r.kind, r.mechanism, r.name) for r in frame.itertuples(index=False)]
    print(_table(("id", "date", "kind", "mechanism", "name"), rows))
    return 0


def _cmd_events_show(args: argparse.Namespace) -> int:
    from spamits import events

    event = events.get(args.event_id)
    lines = [
        ("id", event.id),
        ("name", event.name),
        ("kind", event.kind),
        ("date", f"{_day(event.date)} (range {_day(event.date_lo)} to {_day(event.date_hi)})"),
        ("end date", _day(event.end_date) or "none given"),
        ("uncertainty", "; ".join(f"{c}: {events.UNCERTAINTY[c]}" for c in event.uncertainties) or "none marked"),
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
