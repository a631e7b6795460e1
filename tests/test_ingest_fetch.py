"""``spamits data fetch untroubled`` by the index page: yearly and monthly archives, each fetched once, resumed,
checked, logged; index parsing; polite spacing; progress display.

Archives are built from the real fixture messages (tests/fixtures/untroubled) in the real layout and served
from 127.0.0.1 (tests/untroubled_site.py); nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import socket
from collections import namedtuple

import pytest

from spamits import cli
from spamits.errors import DataValidationError
from spamits.ingest import fetch
from spamits.ingest.fetch import FETCH_LOG, FetchError, fetch_untroubled, read_fetch_log
from spamits.ingest.index import ArchiveIndex, ListedArchive, month_span, read_index, resolve
from spamits.ingest.progress import ProgressBar, human_bytes
from untroubled_site import SiteServer, apache_size, build_site, index_page

SPAN = ["--from", "2006-01", "--to", "2007-11"]
NEEDED = {"2006.7z": [f"2006-{m:02d}" for m in range(1, 13)],
          "2007.7z": [f"2007-{m:02d}" for m in range(1, 11)],
          "2007-11.7z": ["2007-11"]}


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def site(tmp_path):
    """The index lists 2005.7z, 2006.7z, 2007.7z and 2007-11.7z (2007.7z also holds November), plus a
    ``1997-98.7z`` row whose name is not an archive name spamits knows."""
    return build_site(tmp_path / "site", yearly=(2005, 2006, 2007), monthly=("2007-11",),
                      extra_rows=[("1997-98.7z", 5_000_000)])


def run_fetch(server, dest, *extra: str, span=SPAN) -> int:
    return cli.main(["data", "fetch", "untroubled", *span, "--rate", "0", "--base-url", server.url,
                     "--dest", str(dest), *extra])


def out_lines(out: str) -> dict[str, list[str]]:
    """{archive: whitespace-split fields} of the CLI's per-archive lines."""
    return {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}


# --- the whole path over loopback ------------------------------------------------------------------------------


def test_fetch_two_yearly_and_one_monthly_archive_each_once(tmp_path, site, capsys):
    dest = tmp_path / "raw"
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        assert run_fetch(server, dest) == 0
    out, err = capsys.readouterr()
    # one index GET, then each needed archive exactly once, no Range, 2005.7z never asked for
    assert server.requests[0] == ("/spam/", None)
    assert sorted(server.archive_gets()) == sorted((f"/spam/{name}", None) for name in NEEDED)
    assert len(server.requests) == 4
    lines = out_lines(out)
    assert list(lines) == ["2006.7z", "2007.7z", "2007-11.7z"]  # in the order first needed
    log = read_fetch_log(dest)
    assert log["base_url"] == server.url
    for name, months in NEEDED.items():
        served = site["archives"][name]
        assert (dest / name).read_bytes() == served.read_bytes()
        assert not (dest / f"{name}.part").exists()
        assert lines[name] == [name, month_span(months), "fetched", "sha256", sha256(served),
                               str(served.stat().st_size), "bytes"]
        entry = log["archives"][name]
        assert entry["sha256"] == sha256(served)
        assert entry["bytes"] == served.stat().st_size
        assert entry["url"] == f"{server.url}{name}"
        assert entry["months"] == months
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", entry["fetched_utc"])
    assert set(log["archives"]) == set(NEEDED)
    assert lines["2006.7z"][1] == "2006-01..2006-12" and lines["2007.7z"][1] == "2007-01..2007-10"
    # stderr: what the index lists, the name it could not use, plain progress lines (not a terminal)
    assert "3 yearly archive(s) (2005..2007), 1 monthly (2007-11)" in err
    assert "1997-98.7z: not named YYYY.7z or YYYY-MM.7z, not used" in err
    assert f"2007.7z: downloading, {human_bytes(site['archives']['2007.7z'].stat().st_size)}" in err
    assert "2007.7z: done, " in err
    assert "\r" not in err


def test_rerun_finds_everything_present_and_downloads_nothing(tmp_path, site, capsys):
    dest = tmp_path / "raw"
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        assert run_fetch(server, dest) == 0
        first = read_fetch_log(dest)
        capsys.readouterr()
        server.requests.clear()
        assert run_fetch(server, dest) == 0
    out, _ = capsys.readouterr()
    assert server.requests == [("/spam/", None)]  # the index only
    lines = out_lines(out)
    assert {name: fields[2] for name, fields in lines.items()} == dict.fromkeys(NEEDED, "present")
    assert {name: fields[4] for name, fields in lines.items()} == {n: sha256(site["archives"][n]) for n in NEEDED}
    assert read_fetch_log(dest)["archives"] == first["archives"]  # same hashes, months and fetch times


def test_present_archive_needed_for_more_months_keeps_its_log_and_adds_the_months(tmp_path, site):
    dest = tmp_path / "raw"
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        fetch_untroubled(["2006-01", "2006-02"], dest=dest, base_url=server.url, rate=0)
        fetched = read_fetch_log(dest)["archives"]["2006.7z"]
        results = fetch_untroubled(["2006-03"], dest=dest, base_url=server.url, rate=0)
    assert [(r.archive, r.status, r.months) for r in results] == [("2006.7z", "present", ["2006-03"])]
    entry = read_fetch_log(dest)["archives"]["2006.7z"]
    assert entry["months"] == ["2006-01", "2006-02", "2006-03"]
    assert entry["fetched_utc"] == fetched["fetched_utc"] and entry["sha256"] == fetched["sha256"]


def test_interrupted_download_is_resumed_with_a_range_request(tmp_path, site, capsys):
    dest = tmp_path / "raw"
    served = site["archives"]["2007.7z"]
    with SiteServer(served.parent, cut_once={"2007.7z"}) as server:
        # 1. the 2007 download is cut half-way: exit 1, a message naming archive, URL and how to resume
        assert run_fetch(server, dest) == 1
        err = capsys.readouterr().err
        assert "2007.7z" in err and f"{server.url}2007.7z" in err and "resume" in err
        part = dest / "2007.7z.part"
        assert part.stat().st_size == served.stat().st_size // 2
        assert (dest / "2006.7z").is_file() and not (dest / "2007-11.7z").exists()
        server.requests.clear()
        # 2. run again: 2006 present, 2007 resumed from the half, 2007-11 fetched
        assert run_fetch(server, dest) == 0
    out, _ = capsys.readouterr()
    assert server.archive_gets() == [("/spam/2007.7z", f"bytes={served.stat().st_size // 2}-"),
                                     ("/spam/2007-11.7z", None)]
    assert {name: fields[2] for name, fields in out_lines(out).items()} == {
        "2006.7z": "present", "2007.7z": "resumed", "2007-11.7z": "fetched"}
    assert (dest / "2007.7z").read_bytes() == served.read_bytes()
    assert not part.exists()
    assert read_fetch_log(dest)["archives"]["2007.7z"]["sha256"] == sha256(served)


def test_a_month_no_listed_archive_covers_is_an_error_before_any_download(tmp_path, site, capsys):
    dest = tmp_path / "raw"
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        assert run_fetch(server, dest, span=["--from", "2007-10", "--to", "2008-02"]) == 1
        err = capsys.readouterr().err
        with pytest.raises(FetchError) as caught:
            fetch_untroubled(["1998-03", "2006-05"], dest=dest, base_url=server.url, rate=0)
    assert err.splitlines()[-1].startswith("spamits: error: no archive listed at ")
    assert "covers 2008-01..2008-02 (2 month(s)" in err
    assert "The index lists: 2005.7z, 2006.7z, 2007.7z, 2007-11.7z." in err
    assert "Nothing was downloaded" in err
    message = str(caught.value)
    assert "covers 1998-03 (1 month(s)" in message and "1997-98.7z" in message  # the unusable name is named
    assert server.archive_gets() == []  # only the index pages were read
    assert sorted(p.name for p in dest.iterdir()) == []


def test_free_disk_space_is_checked_before_the_download_starts(tmp_path, site, monkeypatch):
    dest = tmp_path / "raw"
    served = site["archives"]["2006.7z"]
    size = served.stat().st_size
    usage = namedtuple("usage", "total used free")
    free = {"bytes": 100}
    seen = []

    def disk_usage(path):
        seen.append(path)
        return usage(10**12, 10**12 - free["bytes"], free["bytes"])

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    with SiteServer(served.parent) as server:
        with pytest.raises(FetchError) as caught:
            fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0)
        message = str(caught.value)
        assert message.startswith("2006.7z: not enough disk space")
        assert f"{size} bytes" in message and "100 bytes" in message and str(dest) in message
        assert seen == [dest]
        assert not (dest / "2006.7z.part").exists() and not (dest / "2006.7z").exists()
        # a resumed download needs only what is left: half is there, exactly the other half free is enough
        (dest / "2006.7z.part").write_bytes(served.read_bytes()[: size // 2])
        free["bytes"] = size - size // 2 - 1
        with pytest.raises(FetchError, match=f"{size - size // 2} bytes .* still needed"):
            fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0)
        assert (dest / "2006.7z.part").stat().st_size == size // 2  # kept for the next run
        free["bytes"] = size - size // 2
        results = fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0)
    assert [(r.archive, r.status) for r in results] == [("2006.7z", "resumed")]
    assert (dest / "2006.7z").read_bytes() == served.read_bytes()


def test_an_archive_larger_than_max_size_is_refused(tmp_path, site, capsys):
    dest = tmp_path / "raw"
    size = site["archives"]["2006.7z"].stat().st_size
    with SiteServer(site["archives"]["2006.7z"].parent, no_length={"2007.7z"}) as server:
        # declared (Content-Length) above the limit: refused before a byte is written
        with pytest.raises(FetchError) as caught:
            fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0, max_bytes=size - 1)
        assert f"declares {size} bytes" in str(caught.value) and f"{size - 1} bytes" in str(caught.value)
        assert "--max-size" in str(caught.value)
        assert not (dest / "2006.7z.part").exists()
        # not declared, and more sent than the limit: cut off, the partial file deleted
        with pytest.raises(FetchError, match=r"sent more than the 1000 bytes .* accepted for one archive"):
            fetch_untroubled(["2007-01"], dest=dest, base_url=server.url, rate=0, max_bytes=1000)
        assert list(dest.glob("2007.7z*")) == []
        # the same limit from the command line, in GB
        assert run_fetch(server, dest, "--max-size", f"{(size - 1) / 1e9:.12f}") == 1
        assert f"declares {size} bytes" in capsys.readouterr().err
        assert run_fetch(server, dest, "--max-size", "0") == 1
        assert "--max-size 0.0: must be a positive number of GB" in capsys.readouterr().err
        # within the limit, and without Content-Length: fetched, size taken from what arrived
        results = fetch_untroubled(["2007-01"], dest=dest, base_url=server.url, rate=0, max_bytes=10**6)
    assert [(r.archive, r.status, r.bytes) for r in results] == [
        ("2007.7z", "fetched", site["archives"]["2007.7z"].stat().st_size)]


def test_polite_delay_between_requests_counts_the_index(tmp_path, site):
    now = [100.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    dest = tmp_path / "raw"
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        results = fetch_untroubled(["2006-12", "2007-01", "2007-11"], dest=dest, base_url=server.url, rate=3.0,
                                   sleep=sleep, clock=lambda: now[0])
        assert sleeps == [3.0, 3.0, 3.0]  # index, then three archives: a full pause before each archive
        sleeps.clear()
        fetch_untroubled(["2006-12"], dest=dest, base_url=server.url, rate=3.0, sleep=sleep, clock=lambda: now[0])
    assert sleeps == []  # only the index was requested: nothing to wait for
    assert [r.archive for r in results] == ["2006.7z", "2007.7z", "2007-11.7z"]


def test_time_already_spent_counts_towards_the_delay(tmp_path, site, monkeypatch):
    now = [0.0]
    sleeps = []
    real_fetch_index = fetch.fetch_index

    def slow_index(*args, **kwargs):
        now[0] += 1.25  # the index page took 1.25 s to arrive
        return real_fetch_index(*args, **kwargs)

    monkeypatch.setattr(fetch, "fetch_index", slow_index)
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        fetch_untroubled(["2006-01"], dest=tmp_path / "raw", base_url=server.url, rate=2.0, sleep=sleeps.append,
                         clock=lambda: now[0])
    assert sleeps == [0.75]  # 2.0 s asked between the index request and the archive's, 1.25 s already gone


# --- failures named clearly ------------------------------------------------------------------------------------


def test_error_page_instead_of_an_archive(tmp_path, site):
    (site["archives"]["2006.7z"]).write_bytes(b"<html><body>Quota exceeded</body></html>\n")
    with SiteServer(site["archives"]["2006.7z"].parent) as server:
        with pytest.raises(FetchError, match=r"2006\.7z: .*2006\.7z did not return a 7z archive"):
            fetch_untroubled(["2006-01"], dest=tmp_path / "raw", base_url=server.url, rate=0)
    assert list((tmp_path / "raw").glob("2006.7z*")) == []


def test_listed_archive_missing_on_the_server(tmp_path, site):
    site["archives"]["2006.7z"].unlink()
    with SiteServer(site["index"].parent) as server:
        with pytest.raises(FetchError, match=r"2006\.7z: HTTP 404 .* for http://127\.0\.0\.1:\d+/spam/2006\.7z"):
            fetch_untroubled(["2006-01"], dest=tmp_path / "raw", base_url=server.url, rate=0)


def test_network_failure_names_the_index_page(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/spam/"
    with pytest.raises(FetchError, match=f"network failure reading the index page {re.escape(url)}"):
        fetch_untroubled(["2006-01"], dest=tmp_path / "raw", base_url=url, rate=0, timeout=5)


def test_index_page_http_error(tmp_path, site):
    site["index"].unlink()
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        server.serve = lambda handler: handler.send_error(503)
        with pytest.raises(FetchError, match=r"index page http://127\.0\.0\.1:\d+/spam/: HTTP 503"):
            fetch_untroubled(["2006-01"], dest=tmp_path / "raw", base_url=server.url, rate=0)


def test_416_on_a_part_longer_than_the_file_starts_over(tmp_path, site):
    dest = tmp_path / "raw"
    dest.mkdir()
    served = site["archives"]["2006.7z"]
    (dest / "2006.7z.part").write_bytes(b"x" * (served.stat().st_size + 10))
    with SiteServer(served.parent) as server:
        results = fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0)
    assert server.archive_gets() == [("/spam/2006.7z", f"bytes={served.stat().st_size + 10}-"),
                                     ("/spam/2006.7z", None)]
    assert results[0].status == "fetched"
    assert (dest / "2006.7z").read_bytes() == served.read_bytes()


def test_unexpected_content_range_is_refused(tmp_path, site):
    dest = tmp_path / "raw"
    dest.mkdir()
    served = site["archives"]["2006.7z"]
    (dest / "2006.7z.part").write_bytes(served.read_bytes()[:100])
    with SiteServer(served.parent, wrong_range={"2006.7z"}) as server:
        with pytest.raises(FetchError, match=r"2006\.7z: .* unexpected Content-Range 'bytes 0-"):
            fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0)


def test_present_file_with_a_different_hash_than_logged(tmp_path, site):
    dest = tmp_path / "raw"
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0)
        (dest / "2006.7z").write_bytes(site["archives"]["2005.7z"].read_bytes())
        with pytest.raises(FetchError, match=r"2006\.7z: SHA-256 [0-9a-f]{64} differs from the [0-9a-f]{64}"):
            fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0)


def test_present_file_not_in_the_log_is_kept_and_not_logged(tmp_path, site):
    dest = tmp_path / "raw"
    dest.mkdir()
    shutil.copyfile(site["archives"]["2006.7z"], dest / "2006.7z")
    notes = []
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        results = fetch_untroubled(["2006-01"], dest=dest, base_url=server.url, rate=0, notify=notes.append)
    assert server.archive_gets() == []
    assert [(r.archive, r.status, r.logged, r.sha256) for r in results] == [
        ("2006.7z", "present", False, sha256(site["archives"]["2006.7z"]))]
    assert any(note.startswith(f"2006.7z: found in {dest} but not in its {FETCH_LOG}") for note in notes)
    assert read_fetch_log(dest)["archives"] == {}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rate": -1}, "--rate -1: must be >= 0"),
    ({"rate": float("nan")}, "--rate nan"),
    ({"base_url": "ftp://untroubled.org/spam/"}, "must start with http:// or https://"),
    ({"max_bytes": 0}, "max_bytes 0"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(DataValidationError, match=re.escape(message)):
        fetch_untroubled(["2006-01"], dest=tmp_path / "raw", **kwargs)


def test_bad_months_on_the_command_line_exit_1(tmp_path, capsys):
    assert cli.main(["data", "fetch", "untroubled", "--from", "2008-13", "--to", "2009-01",
                     "--dest", str(tmp_path)]) == 1
    assert "--from '2008-13': write a month as YYYY-MM" in capsys.readouterr().err
    assert cli.main(["data", "fetch", "untroubled", "--from", "2009-02", "--to", "2009-01",
                     "--dest", str(tmp_path)]) == 1
    assert "--to 2009-01 is before --from 2009-02" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_fetch_help_states_the_options(capsys):
    assert cli.main(["data", "fetch", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in ("--from YYYY-MM", "--to YYYY-MM", "--base-url URL", "--dest DIR", "--rate SECONDS",
                 "--max-size GB", "(default 100)", "YYYY-MM.7z where listed, else from YYYY.7z"):
        assert text in out


def test_fetch_log_records_months_in_json(tmp_path, site):
    dest = tmp_path / "raw"
    with SiteServer(site["archives"]["2005.7z"].parent) as server:
        fetch_untroubled(["2007-11"], dest=dest, base_url=server.url, rate=0)
    raw = json.loads((dest / FETCH_LOG).read_text(encoding="utf-8"))
    assert raw["archives"]["2007-11.7z"]["months"] == ["2007-11"]
    assert set(raw["archives"]["2007-11.7z"]) == {"url", "sha256", "bytes", "fetched_utc", "months"}


# --- the index page ---------------------------------------------------------------------------------------------

BASE = "http://untroubled.org/spam/"


def test_read_index_of_an_apache_table():
    page = index_page([
        ("1997-98.7z", 883_612_800.0, 1_300_000),
        ("2008-11.7z", 1_228_000_000.0, 361_758_720),
        ("2008-13.7z", None, 10),
        ("2008.7z", 1_230_768_000.0, 1_288_490_189),
        ("2009.7z", 1_262_304_000.0, 7_340),
        ("README.html", 1_262_304_000.0, 2_000),
        ("attachments/", 1_262_304_000.0, None),
    ])
    assert page.index('alt="[PARENTDIR]"') < page.index('href="1997-98.7z"')
    index = read_index(page, BASE)
    assert index.names() == ["2008.7z", "2008-11.7z", "2009.7z"]
    assert index.get("2008.7z") == ListedArchive("2008.7z", BASE + "2008.7z", "year", 2008, None, "1.2G",
                                                 "2009-01-01 00:00")
    assert index.get("2008-11.7z") == ListedArchive("2008-11.7z", BASE + "2008-11.7z", "month", 2008, 11, "345M",
                                                    "2008-11-29 23:06")
    assert index.get("2009.7z").size_text == "7.2K"
    assert index.get("2008.7z").approx_bytes == int(1.2 * 1024**3)
    assert index.unrecognised == ("1997-98.7z", "2008-13.7z")
    assert index.get("attachments/") is None and index.get("README.html") is None


def test_apache_sizes_are_printed_like_mod_autoindex():
    assert [apache_size(n) for n in (0, 512, 7_168, 13_312, 394 * 1024, 345 * 1024**2, 1_288_490_189)] == [
        "  0 ", "512 ", "7.0K", " 13K", "394K", "345M", "1.2G"]


def test_read_index_of_bare_links_and_a_pre_listing():
    bare = ('<html><body><p>Please select date range:</p><ul><li><A HREF="2001.7z">2001</A></li>'
            '<li><a href="./2002.7z">2002</a></li><li><a href="/spam/2003-04.7z">April 2003</a></li>'
            '<li><a href="../">up</a></li><li><a href="http://example.com/spam/2004.7z">mirror</a></li>'
            '<li><a href="2005.7z?download=1#top">2005</a></li><li><a href="attachments/">attachments</a></li>'
            '<li><a href="2006.7z">2006.7z</a></li></ul></body></html>')
    index = read_index(bare, BASE)
    assert index.names() == ["2001.7z", "2002.7z", "2003-04.7z", "2005.7z", "2006.7z"]
    assert index.get("2005.7z").url == BASE + "2005.7z"
    assert all(a.size_text is None and a.modified_text is None for a in index.archives)
    pre = ('<pre><a href="?C=N;O=D">Name</a>  <a href="?C=M;O=A">Last modified</a>  <a href="?C=S;O=A">Size</a>\n'
           '<hr><a href="/">Parent Directory</a>                         -   \n'
           '<a href="2007.7z">2007.7z</a>        12-Jan-2008 10:00  38K  \n'
           '<a href="2007-11.7z">2007-11.7z</a>     01-Dec-2007 04:05  2.1K \n</pre>')
    index = read_index(pre, BASE.rstrip("/"))
    assert index.base_url == BASE
    assert [(a.name, a.modified_text, a.size_text) for a in index.archives] == [
        ("2007.7z", "12-Jan-2008 10:00", "38K"), ("2007-11.7z", "01-Dec-2007 04:05", "2.1K")]


def test_read_index_of_a_page_without_archives():
    index = read_index("<html><body><h1>Not Found</h1></body></html>", BASE)
    assert index.archives == () and index.unrecognised == ()
    with pytest.raises(FetchError, match="The index lists: no YYYY.7z or YYYY-MM.7z archive"):
        resolve(["2008-01"], index)


def test_resolve_prefers_the_monthly_archive_and_keeps_first_needed_order():
    index = read_index("".join(f'<a href="{n}">{n}</a>' for n in
                               ("2008.7z", "2009.7z", "2008-12.7z", "2009-02.7z")), BASE)
    months = ["2008-11", "2008-12", "2009-01", "2009-02", "2009-03"]
    assert list(resolve(months, index).items()) == [
        ("2008.7z", ["2008-11"]), ("2008-12.7z", ["2008-12"]), ("2009.7z", ["2009-01", "2009-03"]),
        ("2009-02.7z", ["2009-02"])]
    with pytest.raises(FetchError, match=r"covers 2007-11\.\.2007-12,2010-01 \(3 month\(s\)"):
        resolve(["2007-11", "2007-12", "2008-01", "2010-01"], index)
    with pytest.raises(DataValidationError):
        resolve(["2008-1"], index)


def test_month_span():
    assert month_span(["2006-03", "2006-01", "2006-02", "2006-05", "2006-12", "2007-01"]) == (
        "2006-01..2006-03,2006-05,2006-12..2007-01")
    assert month_span(["2007-11"]) == "2007-11"


def test_archive_index_describes_itself():
    index = ArchiveIndex(BASE, (ListedArchive("2008.7z", BASE + "2008.7z", "year", 2008),))
    assert index.describe() == "2008.7z"


def test_fetch_module_keeps_its_public_names():
    for name in ("DEFAULT_BASE_URL", "FETCH_LOG", "FetchError", "FetchResult", "default_dest", "fetch_untroubled",
                 "month_range", "read_fetch_log", "DEFAULT_MAX_BYTES"):
        assert hasattr(fetch, name)
    assert fetch.DEFAULT_MAX_BYTES == 100 * 10**9
    assert not hasattr(fetch, "MAX_ARCHIVE_BYTES")


# --- progress display -------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(bar, clock, calls):
    for when, name, done, total in calls:
        clock.now = when
        bar(name, done, total)


def test_progress_on_a_terminal_is_a_tqdm_bar_with_bytes_rate_and_time_left():
    clock, stream = FakeClock(), Terminal()
    bar = ProgressBar(stream, clock=clock)
    assert bar.tty
    feed(bar, clock, [(0.0, "a.7z", 0, 10_000_000), (0.05, "a.7z", 1_000_000, 10_000_000),
                      (0.2, "a.7z", 2_000_000, 10_000_000)])
    assert bar._bar_tqdm is not None and bar._bar_tqdm.n == 2_000_000
    feed(bar, clock, [(1.0, "a.7z", 10_000_000, 10_000_000)])
    text = stream.getvalue()
    last = text.rstrip("\n").split("\r")[-1]
    assert text.endswith("\n") and last.startswith("a.7z: 100%")
    assert "10.0M/10.0M" in last and "B/s" in last and "<00:00" in last  # bytes, rate, time left
    feed(bar, clock, [(2.0, "b.7z", 0, None), (2.5, "b.7z", 3_000_000, None)])
    bar.close()  # a download that failed half-way: the bar is ended for the error message
    assert stream.getvalue().endswith("\n") and "b.7z: 3.00MB" in stream.getvalue()
    bar.close()


def test_progress_off_a_terminal_prints_plain_lines():
    clock, stream = FakeClock(), io.StringIO()
    bar = ProgressBar(stream, clock=clock)
    assert not bar.tty
    total = 10_000_000
    feed(bar, clock, [(0.0, "a.7z", 0, total), (1.0, "a.7z", 500_000, total), (2.0, "a.7z", 1_000_000, total),
                      (3.0, "a.7z", 1_500_000, total), (40.0, "a.7z", 1_600_000, total),
                      (41.0, "a.7z", 2_000_000, total), (42.0, "a.7z", 2_100_000, total),
                      (43.0, "a.7z", 3_000_000, total), (50.0, "a.7z", total, total), (51.0, "a.7z", total, total)])
    assert stream.getvalue().splitlines() == [
        "a.7z: downloading, 10.0 MB",
        "a.7z:  10% 1.0/10.0 MB, 0.5 MB/s, 0:18 left",
        "a.7z:  16% 1.6/10.0 MB, 0.0 MB/s, 3:30 left",  # 30 s after the previous line
        "a.7z:  20% 2.0/10.0 MB, 0.0 MB/s, 2:44 left",
        "a.7z:  30% 3.0/10.0 MB, 0.1 MB/s, 1:40 left",
        "a.7z: done, 10.0 MB in 0:50, 0.2 MB/s",
    ]
    assert "\r" not in stream.getvalue()


def test_progress_off_a_terminal_resumed_and_unknown_size():
    clock, stream = FakeClock(), io.StringIO()
    bar = ProgressBar(stream, clock=clock)
    feed(bar, clock, [(0.0, "a.7z", 5_000_000, 10_000_000), (1.0, "a.7z", 5_500_000, 10_000_000),
                      (2.0, "a.7z", 6_000_000, 10_000_000)])
    feed(bar, clock, [(10.0, "b.7z", 0, None), (20.0, "b.7z", 1_000_000, None), (41.0, "b.7z", 2_000_000, None),
                      (42.0, "b.7z", 2_100_000, 2_100_000)])
    assert stream.getvalue().splitlines() == [
        "a.7z: resuming at 5.0 MB of 10.0 MB",
        "a.7z:  60% 6.0/10.0 MB, 0.5 MB/s, 0:08 left",  # the rate counts this run's bytes only
        "b.7z: downloading, size unknown",
        "b.7z: 2.0 MB, 0.1 MB/s",
        "b.7z: done, 2.1 MB in 0:32, 0.1 MB/s",
    ]
    bar.close()
    assert not stream.getvalue().endswith("\n\n")


def test_human_bytes():
    assert [human_bytes(n) for n in (0, 999, 1_000, 345_000_000, 1_200_000_000)] == [
        "0 B", "999 B", "1.0 kB", "345.0 MB", "1.2 GB"]


def test_dry_run_lists_the_archives_and_their_sizes_and_downloads_nothing(tmp_path, site, capsys):
    dest = tmp_path / "raw"
    with SiteServer(tmp_path / "site") as server:
        assert run_fetch(server, dest, "--dry-run") == 0
        assert server.archive_gets() == []
    out, err = capsys.readouterr()
    lines = out_lines(out)
    assert set(lines) == set(NEEDED) and all(fields[2] == "listed" for fields in lines.values())
    assert "3 archive(s) hold these months, 3 not yet in" in err and "to download as the index lists it" in err
    assert not any(dest.glob("*.7z*"))
