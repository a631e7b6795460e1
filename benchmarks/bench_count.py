"""Time ``spamits data count`` on a generated maildir against Python's ``mailbox`` + ``email`` parse of it.

Generates N messages (default 20,000) with realistic spam headers (several Received lines, DKIM, MIME bodies of
a few KiB) in a temporary maildir, then times, in the same run and on the same warm files:

* baseline: ``mailbox.Maildir`` iteration (each message parsed by ``email``), date of the first ``Received:``
  header (``email.utils.parsedate_to_datetime``), else ``Date:``, counted per UTC day;
* spamits: :func:`spamits.ingest.mailcount.count_path` (header prefix only, same rule).

Both must give the same daily counts.  Prints a Markdown table with the median of ``--repeat`` runs and the ratio.
Usage: ``.venv/bin/python benchmarks/bench_count.py [--messages 20000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import mailbox
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from spamits.ingest.mailcount import count_path

START = dt.datetime(2008, 10, 1, tzinfo=dt.UTC).timestamp()
WORDS = ("viagra cheap pharmacy discount offer replica watches rolex click here now free shipping best price "
         "online canadian meds limited time you have won lottery claim prize unsubscribe").split()


def _received_chain(rng: random.Random, epoch: float) -> list[str]:
    hops = [f"Received: (qmail {rng.randint(1000, 99999)} invoked from network); {_date(epoch)}"]
    for hop in range(rng.randint(3, 6)):
        ip = ".".join(str(rng.randint(1, 254)) for _ in range(4))
        hops.append(f"Received: from mx{hop}.example-{rng.randint(1, 999)}.net (HELO host{hop}) ({ip})\n"
                    f"\tby mail{hop}.relay.example.com with ESMTP id {rng.getrandbits(48):x}\n"
                    f"\tfor <trap{rng.randint(1, 50)}@example.org>; {_date(epoch - 30 * (hop + 1))}")
    return hops


def _date(epoch: float) -> str:
    return email.utils.formatdate(epoch, localtime=False, usegmt=False)


def _body(rng: random.Random) -> str:
    boundary = f"----=_NextPart_{rng.getrandbits(64):x}"
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(150, 700)))
    html = "<html><body><p>" + text.replace(" now ", " <a href='http://spam.example/'>now</a> ") + "</p></body></html>"
    return (f"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"{boundary}\"\n\n"
            f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
            f"Content-Type: text/plain; charset=us-ascii\n"
            f"Content-Transfer-Encoding: 7bit\n\n{text}\n\n--{boundary}\nContent-Type: text/html; charset=us-ascii\n"
            f"Content-Transfer-Encoding: 7bit\n\n{html}\n\n--{boundary}--\n")


def make_message(rng: random.Random, epoch: float) -> bytes:
    headers = [
        "Return-Path: <bounce@spam.example>", "Delivered-To: trap@example.org", *_received_chain(rng, epoch),
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=spam.example; s=s1;\n\tbh={rng.getrandbits(256):x};"
        f"\n\tb={rng.getrandbits(512):x}{rng.getrandbits(512):x}",
        f"Message-ID: <{rng.getrandbits(80):x}@spam.example>", f"Date: {_date(epoch - 300)}",
        f"From: \"{rng.choice(WORDS).title()} Store\" <sales@spam.example>", "To: <trap@example.org>",
        f"Subject: {' '.join(rng.choice(WORDS) for _ in range(6))}", "X-Mailer: Microsoft Outlook Express 6.00",
        "X-Priority: 3",
    ]
    head = "\n".join(headers) + "\n"
    body = _body(rng)
    mime_head, _, mime_body = body.partition("\n\n")
    return (head + mime_head + "\n\n" + mime_body).encode("ascii")


def make_maildir(root: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        epoch = START + rng.uniform(0, 120 * 86400)
        name = f"{int(epoch)}.{rng.randint(1000, 99999)}_{i}.trap:2,S"
        (root / "cur" / name).write_bytes(make_message(rng, epoch))


def baseline(root: Path) -> Counter:
    """Python's mailbox + email: parse every message, first Received date, else Date, per UTC day."""
    counts: Counter = Counter()
    box = mailbox.Maildir(root, create=False)
    for msg in box:
        when = None
        received = msg.get_all("Received") or []
        if received and ";" in received[0]:
            when = _parse(received[0].rsplit(";", 1)[1])
        if when is None and msg["Date"]:
            when = _parse(msg["Date"])
        if when is not None:
            counts[when.astimezone(dt.UTC).date()] += 1
    return counts


def _parse(text: str) -> dt.datetime | None:
    try:
        value = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def spamits_count(root: Path) -> Counter:
    frame = count_path(root, "maildir").frame()
    return Counter({dt.date.fromisoformat(d): c for d, c in zip(frame["date"], frame["count"], strict=True) if c})


def timed(func, root: Path, repeat: int) -> tuple[float, Counter]:
    times, result = [], Counter()
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(root)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spamits-bench-") as tmp:
        root = Path(tmp) / "maildir"
        start = time.perf_counter()
        make_maildir(root, args.messages)
        size = sum(p.stat().st_size for p in (root / "cur").iterdir())
        print(f"generated {args.messages} messages ({size / 1e6:.1f} MB, mean {size / args.messages / 1024:.1f} KiB) "
              f"in {time.perf_counter() - start:.1f} s; {os.cpu_count()} cores")
        spamits_count(root)  # warm the page cache for both
        t_base, c_base = timed(baseline, root, args.repeat)
        t_ours, c_ours = timed(spamits_count, root, args.repeat)
    assert c_base == c_ours, "the two counts differ"
    print(f"\n| what | median s ({args.repeat} runs) | messages/s | speed-up |\n|---|---:|---:|---:|")
    print(f"| mailbox + email (baseline) | {t_base:.2f} | {args.messages / t_base:,.0f} | 1.0 |")
    print(f"| spamits data count | {t_ours:.2f} | {args.messages / t_ours:,.0f} | {t_base / t_ours:.1f} |")
    print(f"\nratio: {t_base / t_ours:.1f}x (same daily counts: {sum(c_ours.values())} messages on {len(c_ours)} days)")


if __name__ == "__main__":
    main()
