"""Drive a headless Chromium over the Chrome DevTools Protocol (CDP) for the report browser tests.

A small client on ``websocket-client``: no browser download, no driver.  :func:`find_chromium` looks for the
Debian ``chromium`` (``make browser`` installs it) or another Chrome; :class:`Browser` starts it headless with
the flags below, opens pages and reports what each page did: console errors, uncaught exceptions and every
request it made (URLs), and can evaluate JavaScript in the page.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
    "--remote-debugging-port=0", "--window-size=1280,2000",
)


def find_chromium() -> str | None:
    """``SPAMITS_CHROMIUM`` or ``BROWSER_PATH`` if set, else the first Chrome/Chromium on PATH."""
    for var in ("SPAMITS_CHROMIUM", "BROWSER_PATH"):
        if os.environ.get(var):
            return os.environ[var]
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass
class PageLog:
    """What one page did while it loaded."""

    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)

    def network_requests(self) -> list[str]:
        """Requests that would leave the machine (anything but ``file:`` and ``data:`` URLs)."""
        return [url for url in self.requests if not url.startswith(("file:", "data:"))]

    def errors(self) -> list[str]:
        return self.console_errors + self.exceptions + self.log_errors


class Browser:
    """A headless Chromium with one CDP websocket; use as a context manager."""

    def __init__(self, executable: str, *, timeout: float = 60.0) -> None:
        self.executable = executable
        self.timeout = timeout
        self.profile = Path(tempfile.mkdtemp(prefix="spamits-chromium-"))
        self.proc: subprocess.Popen | None = None
        self.ws: websocket.WebSocket | None = None
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        # --no-sandbox: Chromium refuses its sandbox as root, and CI images may block the user namespaces it
        # needs; the pages opened are the project's own local files.
        flags = [*FLAGS, "--no-sandbox", f"--user-data-dir={self.profile}"]
        self.proc = subprocess.Popen([self.executable, *flags, "about:blank"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{self.executable} did not start a DevTools endpoint")
            time.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=self.timeout,
                                              suppress_origin=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)

    # --- protocol ----------------------------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        assert self.ws is not None
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _pump(self, seconds: float) -> None:
        """Read events for up to ``seconds``."""
        assert self.ws is not None
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                self._events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        self.ws.settimeout(self.timeout)

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    # --- pages -------------------------------------------------------------------------------------------

    def open(self, url: str, *, ready: str = "true", settle: float = 1.0) -> tuple[str, PageLog]:
        """Open ``url`` in a new tab; wait for its load event and for the JS expression ``ready`` to be true.

        Returns the CDP session id (for :meth:`evaluate`) and the page's log.
        """
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable", session=session)
        self._events.clear()
        self.send("Page.navigate", {"url": url}, session)
        deadline = time.monotonic() + self.timeout
        loaded = False
        while time.monotonic() < deadline:
            self._pump(0.25)
            loaded = loaded or any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session
                                   for e in self._events)
            if loaded and self.evaluate(session, f"Boolean({ready})"):
                break
        else:
            raise TimeoutError(f"{url}: not ready ({ready}) within {self.timeout} s")
        self._pump(settle)  # late console messages and requests
        return session, self._page_log(url, session)

    def _page_log(self, url: str, session: str) -> PageLog:
        log = PageLog(url)
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                log.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                log.console_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                   for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                log.exceptions.append(str(details.get("exception", {}).get("description") or details.get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                log.log_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
        return log

    def open_without_javascript(self, url: str, *, settle: float = 2.0) -> str:
        """Open ``url`` with page scripts disabled (as in a mail client or a code host's preview).

        Returns the CDP session id; :meth:`evaluate` still works (DevTools evaluation is not a page script).
        """
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Emulation.setScriptExecutionDisabled", {"value": True}, session)
        self.send("Page.enable", session=session)
        self._events.clear()
        self.send("Page.navigate", {"url": url}, session)
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session
                      for e in self._events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: no load event within {self.timeout} s")
            self._pump(0.25)
        self._pump(settle)
        return session
